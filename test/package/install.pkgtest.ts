/**
 * The package as users install it: `npm pack`, install the tarball into a clean folder, then use
 * it from CommonJS, ESM and strict TypeScript (both module systems), with express from npm.
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
}
`;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'cyberark-bearer-pkg-'));
  await exec('npm', ['pack', '--pack-destination', dir], { cwd: root });
  const tarball = (await readdir(dir)).find((f) => f.endsWith('.tgz'))!;
  await writeFile(join(dir, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'commonjs' }));
  await exec('npm', ['install', '--no-audit', '--no-fund', '--prefer-offline', join(dir, tarball), 'express@5', 'pino@10', 'typescript@5.9', '@types/express@5', '@types/node@20'], { cwd: dir });
}, 240_000);

afterAll(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

describe('installed from the packed tarball', () => {
  it('works from CommonJS (require)', async () => {
    await writeFile(join(dir, 'use.cjs'), usage(`const bearer = require('cyberark-bearer'); const testing = require('cyberark-bearer/testing'); const express = require('express');`));
    const { stdout, stderr } = await exec(process.execPath, ['use.cjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
    expect(stderr).not.toMatch(/Warning/);
  });

  it('works from ESM (import)', async () => {
    await writeFile(
      join(dir, 'use.mjs'),
      usage(`import * as bearer from 'cyberark-bearer'; import * as testing from 'cyberark-bearer/testing'; import express from 'express'; import { createRequire } from 'node:module'; const require = createRequire(import.meta.url);`),
    );
    const { stdout } = await exec(process.execPath, ['use.mjs'], { cwd: dir });
    expect(JSON.parse(stdout)).toEqual(expected);
  });

  it.each([
    ['ESM', 'nodenext', 'use.mts'],
    ['CommonJS', 'nodenext', 'use.cts'],
    ['a bundler', 'bundler', 'use.ts'],
  ])('type-checks strict TypeScript that resolves it as %s', async (_kind, resolution, file) => {
    await writeFile(join(dir, file), typescriptUse);
    const module = resolution === 'bundler' ? 'esnext' : 'nodenext';
    const args = ['--noEmit', '--strict', '--exactOptionalPropertyTypes', '--esModuleInterop',
      '--module', module, '--moduleResolution', resolution, '--target', 'es2022', '--types', 'node', file];
    const result = await exec(join(dir, 'node_modules/.bin/tsc'), args, { cwd: dir }).catch((e: { stdout: string }) => e);
    expect(result.stdout).toBe('');
  });
});
