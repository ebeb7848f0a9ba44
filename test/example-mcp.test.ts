/**
 * `npm run mcp` as a newcomer meets it: started with no configuration, and the commands it prints
 * pasted into a shell, verbatim: the 401 naming the metadata, the metadata, a token, a tool call.
 */
import { spawn, execFile, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const run = promisify(execFile);
let server: ChildProcess;
let output = '';

beforeAll(async () => {
  const env: NodeJS.ProcessEnv = { ...process.env, PORT: '0', LOG_LEVEL: 'warn' };
  for (const name of Object.keys(env)) if (name.startsWith('CYBERARK_')) delete env[name];
  server = spawn('node_modules/.bin/tsx', ['example-server/mcp.ts'], { env, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
  server.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  server.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const deadline = Date.now() + 30_000;
  while (!/^\s*curl -X POST -H "Authorization/m.test(output)) {
    if (Date.now() > deadline || server.exitCode !== null) throw new Error(`npm run mcp did not start:\n${output}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}, 40_000);

afterAll(() => {
  if (server.pid) process.kill(-server.pid, 'SIGTERM');
});

const line = (start: string) =>
  output
    .split('\n')
    .map((l) => l.trim())
    .find((l) => l.startsWith(start))!;
const bash = async (script: string) => (await run('bash', ['-c', script], { timeout: 15_000 })).stdout;

describe('npm run mcp', () => {
  it('prints the server URL and the demo clients', () => {
    expect(output).toMatch(/^Orders MCP server at http:\/\/127\.0\.0\.1:\d+\/mcp \(Streamable HTTP, stateless\)/m);
    expect(output).toMatch(/demo-client \/ demo-secret +orders\.read orders\.write$/m);
    expect(output).toMatch(/reader-client \/ reader-secret +orders\.read \(create_order is refused\)$/m);
  });

  it('prints a curl that gets the 401 naming the metadata, and one that reads it', async () => {
    const refused = await bash(line('curl -i -X POST'));
    expect(refused).toMatch(/^HTTP\/1\.1 401/);
    const metadataUrl = /resource_metadata="([^"]+)"/.exec(refused)![1];
    const read = line('curl http');
    expect(read).toBe(`curl ${metadataUrl}`);
    const metadata = JSON.parse(await bash(read)) as { resource: string; authorization_servers: string[] };
    expect(metadata.resource).toBe(/(http:\S+\/mcp)/.exec(line('curl -i -X POST'))![1]);
    expect(metadata.authorization_servers).toHaveLength(1);
  });

  it('prints a token request and a tool call that work when pasted', async () => {
    const answer = JSON.parse(await bash(`${line('TOKEN=$(curl')}\n${line('curl -X POST -H "Authorization')} -s`)) as {
      result?: { content: Array<{ text: string }> };
    };
    expect(JSON.parse(answer.result!.content[0]!.text)).toEqual({
      orders: [{ id: 1, item: 'widget', quantity: 3, createdBy: 'seed' }],
    });
  });
});
