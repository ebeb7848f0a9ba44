/**
 * `npm run demo` as a newcomer runs it: it must exit by itself, with code 0, after showing the
 * reports succeeding, the 403 for a scope the caller lacks, and one token request in all.
 */
import { execFile } from 'node:child_process';
import { describe, expect, it } from 'vitest';

describe('npm run demo', () => {
  it('shows two services talking with one token, and a 403, then exits by itself', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const name of Object.keys(env)) if (name.startsWith('CYBERARK_') || name === 'LOG_LEVEL') delete env[name];
    const { code, stdout, stderr } = await new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
      execFile('node_modules/.bin/tsx', ['example-server/demo.ts'], { env, timeout: 30_000 }, (error, stdout, stderr) => {
        resolve({ code: error ? (typeof error.code === 'number' ? error.code : null) : 0, stdout, stderr });
      });
    });
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    const reports = stdout.split('\n').filter((line) => /^ {2}\d\. /.test(line));
    expect(reports).toHaveLength(5);
    for (const line of reports) expect(line).toMatch(/^ {2}\d\. 200 {2}1 order\(s\): widget x3/);
    expect(stdout).toContain('  403 insufficient_scope\n');
    expect(stdout).toContain('error="insufficient_scope", error_description="insufficient scope", scope="orders.write"');
    expect(stdout).toContain('Token requests received by the issuer: 1, for 6 calls to the orders API.');
  });
});
