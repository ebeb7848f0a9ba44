/**
 * The package as users install it: `npm pack`, install the tarball into a clean folder, then use
 * it from CommonJS, ESM and strict TypeScript (both module systems), with express from npm,
 * and run the installed `cyberark-bearer` command.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const exec = promisify(execFile);
const root = resolve(import.meta.dirname, '../..');
let dir: string;

const usage = (load: string) => `${load}
const http = require('node:http');
(async () => {
  const { createBearerAuth } = bearer;
  const issuer = await testing.createTestIssuer({ appId: 'pkg' });
  const auth = createBearerAuth({ ...issuer.options, logger: require('pino')({ level: 'silent' }) });
  const app = express();
  app.get('/x', auth.requireToken('a'), (req, res) => res.json({ caller: req.auth.clientId }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = 'http://127.0.0.1:' + server.address().port + '/x';
  const ok = await fetch(url, { headers: { authorization: 'Bearer ' + issuer.mint({ scope: 'a' }) } });
  const refused = await fetch(url);
  console.log(JSON.stringify({ ok: ok.status, body: await ok.json(), refused: refused.status, challenge: refused.headers.get('www-authenticate') }));
  server.close();
  await issuer.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

const expected = { ok: 200, body: { caller: 'test-client@cyberark.cloud.0000' }, refused: 401, challenge: 'Bearer realm="api"' };

const typescriptUse = `import express from 'express';
import { createBearerAuth, type AuthInfo } from 'cyberark-bearer';
import { createTestIssuer } from 'cyberark-bearer/testing';
import { createClientCredentials, TokenRequestError, TokenUnavailableError, type AccessToken } from 'cyberark-bearer/client';

export async function main(): Promise<void> {
  const issuer = await createTestIssuer({ appId: 'pkg' });
  const auth = createBearerAuth({ ...issuer.options });
  const app = express();
  app.get('/x', auth.requireToken({ anyOf: ['a', 'b'] }), (req, res) => {
    const caller: string | undefined = req.auth.clientId;
    const info: AuthInfo = req.auth;
    res.json({ caller, scopes: info.scopes });
  });
  // @ts-expect-error -- two scope arguments are refused by the types
  auth.requireToken('a', 'b');

  const orders = createClientCredentials({ tokenUrl: issuer.tokenUrl, clientId: 'svc', clientSecret: 's', scope: ['a'] });
  const token: AccessToken = await orders.getAccessToken();
  const res: Response = await orders.fetch('http://127.0.0.1:1/x', { method: 'POST', body: token.token });
  try {
    await orders.getToken();
  } catch (error) {
    if (error instanceof TokenRequestError) console.log(error.error, error.errorDescription, res.status);
    if (error instanceof TokenUnavailableError) console.log(error.kind, error.attempts);
  }
  // @ts-expect-error -- only 'body' and 'basic' exist
  createClientCredentials({ authMethod: 'post' });
}
`;

/** A service calling an API with the client: one token request for three calls. */
const clientUsage = (load: string) => `${load}
(async () => {
  const issuer = await testing.createTestIssuer({ appId: 'pkg', clients: [{ clientId: 'svc', clientSecret: 'pkg-secret', scopes: ['a'] }] });
  const silent = require('pino')({ level: 'silent' });
  const auth = bearer.createBearerAuth({ ...issuer.options, logger: silent });
  const app = express();
  app.get('/x', auth.requireToken('a'), (req, res) => res.json({ caller: req.auth.clientId }));
  const server = app.listen(0, '127.0.0.1');
  await new Promise((r) => server.once('listening', r));
  const url = 'http://127.0.0.1:' + server.address().port + '/x';
  const orders = client.createClientCredentials({ tenantUrl: issuer.url, appId: 'pkg', clientId: 'svc', clientSecret: 'pkg-secret', scope: 'a', logger: silent, env: {} });
  const statuses = [];
  for (let i = 0; i < 3; i++) statuses.push((await orders.fetch(url)).status);
  let sameConfigError = false;
  try { client.createClientCredentials({ env: {} }); } catch (e) { sameConfigError = e instanceof bearer.ConfigError && e instanceof client.ConfigError; }
  console.log(JSON.stringify({ statuses, tokenRequests: issuer.tokenRequests, sameConfigError }));
  server.close();
  await issuer.close();
})().catch((e) => { console.error(e); process.exit(1); });
`;

const clientExpected = { statuses: [200, 200, 200], tokenRequests: 1, sameConfigError: true };

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cyberark-bearer-pkg-'));
  await exec('npm', ['pack', '--pack-destination', dir], { cwd: root });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
  await exec(
    'npm',
    [
      'install',
      '--no-audit',
      '--no-fund',
      '--prefer-offline',
      join(dir, tarball),
      'express@5',
      'pino@10',
      'typescript@5.9',
      '@types/express@5',
      '@types/node@20',
    ],
    { cwd: dir },
  );
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('installed from the packed tarball', () => {
  it('works from CommonJS (require)', async () => {
    await writeFile(
      join(dir, 'use.cjs'),
      usage(
        `const bearer = require('cyberark-bearer'); const testing = require('cyberark-bearer/testing'); const express = require('express');`,
      ),
    );
    const { stdout, stderr } = await exec(process.execPath, ['use.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(stderr).not.toMatch(/Warning/);
  });

  it('works from ESM (import)', async () => {
    await writeFile(
      join(dir, 'use.mjs'),
      usage(
        `import * as bearer from 'cyberark-bearer'; import * as testing from 'cyberark-bearer/testing'; import express from 'express'; import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);`,
      ),
    );
    const { stdout } = await exec(process.execPath, ['use.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it('serves cyberark-bearer/client to CommonJS (require)', async () => {
    await writeFile(
      join(dir, 'client.cjs'),
      clientUsage(
        `const bearer = require('cyberark-bearer'); const client = require('cyberark-bearer/client'); const testing = require('cyberark-bearer/testing'); const express = require('express');`,
      ),
    );
    const { stdout } = await exec(process.execPath, ['client.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(clientExpected);
  });

  it('serves cyberark-bearer/client to ESM (import)', async () => {
    await writeFile(
      join(dir, 'client.mjs'),
      clientUsage(
        `import * as bearer from 'cyberark-bearer'; import * as client from 'cyberark-bearer/client'; import * as testing from 'cyberark-bearer/testing'; import express from 'express'; import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);`,
      ),
    );
    const { stdout } = await exec(process.execPath, ['client.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(clientExpected);
  });

  it('installs the cyberark-bearer command', async () => {
    const bin = join(dir, 'node_modules/.bin/cyberark-bearer');
    const help = await exec(bin, ['--help'], { cwd: dir });
    expect(help.stdout).toMatch(/^Usage: cyberark-bearer <command>/);
    const token = await exec(bin, ['token', '--help'], { cwd: dir });
    expect(token.stdout).toMatch(/^Usage: cyberark-bearer token/);
    const env = { PATH: process.env.PATH ?? '' };
    const missing = await exec(bin, ['verify', 'x.y.z'], { cwd: dir, env }).catch((e: { code: number; stderr: string }) => e);
    expect(missing).toMatchObject({ code: 2, stderr: expect.stringContaining('(env CYBERARK_TENANT_URL)') });
  });

  it.each([
    ['ESM', 'nodenext', 'use.mts'],
    ['CommonJS', 'nodenext', 'use.cts'],
    ['a bundler', 'bundler', 'use.ts'],
  ])('type-checks strict TypeScript that resolves it as %s', async (_kind, resolution, file) => {
    await writeFile(join(dir, file), typescriptUse);
    const module = resolution === 'bundler' ? 'esnext' : 'nodenext';
    const args = [
      '--noEmit',
      '--strict',
      '--exactOptionalPropertyTypes',
      '--esModuleInterop',
      '--module',
      module,
      '--moduleResolution',
      resolution,
      '--target',
      'es2022',
      '--types',
      'node',
      file,
    ];
    const result = await exec(join(dir, 'node_modules/.bin/tsc'), args, { cwd: dir }).catch((e: { stdout: string }) => e);
    expect(result.stdout).toBe('');
  });
});
