/**
 * The example server as a newcomer meets it: started like `npm start`, with no configuration,
 * and the commands it prints pasted into a shell, verbatim.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let server: ChildProcess;
let output = '';

/** The environment of `npm start` with no CYBERARK_* variable, plus `extra`. */
function envWith(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn' };
  for (const name of Object.keys(env)) if (name.startsWith('CYBERARK_')) delete env[name];
  return { ...env, ...extra };
}

const startServer = (env: NodeJS.ProcessEnv) =>
  spawn('node_modules/.bin/tsx', ['example-server/server.ts'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });

beforeAll(async () => {
  server = startServer(envWith());
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!/^\s*curl -i -X POST/m.test(output)) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`example server did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 40_000);

afterAll(() => {
  if (server.pid) process.kill(-server.pid, 'SIGTERM');
});

const lines = () => output.split('\n').map((l) => l.trim());

/** Runs the printed token line, then `call`, in one bash, as a user pasting them would. */
async function paste(tokenLine: string, call: string): Promise<string> {
  const { stdout } = await run('bash', ['-c', `${tokenLine}\n${call} -s -o /dev/null -w '%{http_code}'`], { timeout: 15_000 });
  return stdout.trim();
}

describe('npm start', () => {
  it('prints one TOKEN=$(curl …) line using only curl and node', () => {
    const tokenLines = lines().filter((l) => l.startsWith('TOKEN=$(curl'));
    expect(tokenLines).toHaveLength(1);
    expect(tokenLines[0]).not.toMatch(/\bjq\b/);
    expect(tokenLines[0]).toContain('grant_type=client_credentials');
  });

  it('prints API calls that succeed when pasted', async () => {
    const tokenLine = lines().find((l) => l.startsWith('TOKEN=$(curl'))!;
    const calls = lines().filter((l) => /^curl .*\$\{?TOKEN/.test(l));
    expect(calls.length).toBeGreaterThanOrEqual(3);
    for (const call of calls)
      expect({ call, status: await paste(tokenLine, call) }).toMatchObject({ status: expect.stringMatching(/^2\d\d$/) });
  });

  it('prints refusals that answer 401 and 403', async () => {
    const api = /curl -i (http:\/\/\S+)\/orders$/m.exec(output)![1];
    expect((await run('curl', ['-s', '-o', '/dev/null', '-w', '%{http_code}', `${api}/orders`])).stdout).toBe('401');
    const readerLine = lines().find((l) => l.startsWith('READER=$(curl'))!;
    const forbidden = lines().find((l) => l.includes('$READER') && l.startsWith('curl'))!;
    expect(await paste(readerLine, forbidden.replace(/^curl -i /, 'curl '))).toBe('403');
  });

  it('serves a public health route that reports the keys', async () => {
    const api = /curl -i (http:\/\/\S+)\/orders$/m.exec(output)![1];
    const health = (await (await fetch(`${api}/health`)).json()) as { status: string };
    expect(health.status).toBe('ok');
  });
});

describe('npm start with some CYBERARK_* variables but not enough', () => {
  it.each([
    ['CYBERARK_APP_ID and CYBERARK_AUDIENCE', { CYBERARK_APP_ID: 'orders-api', CYBERARK_AUDIENCE: 'orders-api' }],
    [
      'CYBERARK_JWKS_URI and CYBERARK_AUDIENCE',
      { CYBERARK_JWKS_URI: 'https://abc1234.id.cyberark.cloud/OAuth2/Keys/orders-api', CYBERARK_AUDIENCE: 'orders-api' },
    ],
  ])(
    'with %s: exits with the configuration error, never trusting the built-in issuer',
    async (_case, extra) => {
      const child = startServer(envWith(extra));
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
      // It either exits, or starts and prints its instructions (the built-in issuer): whichever comes first.
      const code = await new Promise<number | null>((resolve) => {
        child.once('close', (exitCode: number | null) => resolve(exitCode));
        child.stdout.on('data', () => {
          if (/Orders API on/.test(text)) resolve(null);
        });
      });
      if (code === null && child.pid) process.kill(-child.pid, 'SIGTERM');
      expect(text).not.toContain('Orders API on');
      const fatal = text
        .split('\n')
        .filter((line) => line.startsWith('{'))
        .map((line) => JSON.parse(line) as { level: number; msg: string });
      expect({ code, fatal }).toMatchObject({
        code: 1,
        fatal: [{ level: 60, msg: expect.stringContaining('option "tenantUrl" (env CYBERARK_TENANT_URL)') }],
      });
    },
    40_000,
  );
});
