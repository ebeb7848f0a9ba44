/**
 * The `cyberark-bearer` command with hostile input: where it takes the token from (never only the
 * command line), claim values no date can hold, and claims that try to drive the terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { useCli } from './cli-process.js';

let issuer: TestIssuer;
const cli = useCli('cli-safety');

beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api' });
});
afterAll(() => issuer.close());

const verifyEnv = (extra: Record<string, string> = {}) => ({ CYBERARK_TENANT_URL: issuer.url, CYBERARK_APP_ID: 'orders-api', CYBERARK_AUDIENCE: 'orders-api', ...extra });

describe.concurrent('verify: where the token comes from', () => {
  it('reads it from stdin with "-", without a warning', async () => {
    const run = await cli(['verify', '-'], verifyEnv(), `${issuer.mint()}\n`);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^valid: /);
  });

  it('reads a piped token when no argument is given', async () => {
    const run = await cli(['verify', '--scope', 'orders.read'], verifyEnv(), `Bearer ${issuer.mint({ scope: 'orders.read' })}\n`);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^valid: /);
  });

  it('reads it from CYBERARK_ACCESS_TOKEN, before whatever stdin holds', async () => {
    const run = await cli(['verify'], verifyEnv({ CYBERARK_ACCESS_TOKEN: `Bearer ${issuer.mint()}` }), 'not-a-jwt\n');
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^valid: /);
  });

  it('takes an empty CYBERARK_ACCESS_TOKEN for unset', async () => {
    const run = await cli(['verify'], verifyEnv({ CYBERARK_ACCESS_TOKEN: '' }), issuer.mint());
    expect(run).toMatchObject({ code: 0, stderr: '' });
  });

  it('still takes the token as an argument, with a one-line warning that does not repeat it', async () => {
    const token = issuer.mint();
    const run = await cli(['verify', token], verifyEnv());
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^valid: /);
    expect(run.stderr).toMatch(/^cyberark-bearer verify: warning: [^\n]*other users[^\n]*CYBERARK_ACCESS_TOKEN[^\n]*\n$/);
    expect(run.stderr).not.toContain(token.split('.')[2]);
  });

  it('says where the token goes when there is none', async () => {
    const run = await cli(['verify'], verifyEnv(), '');
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('the token to verify is missing');
    expect(run.stderr).toContain('CYBERARK_ACCESS_TOKEN');
    expect(run.stderr).toContain('cyberark-bearer verify -');
  });

  it('documents stdin and the variable, and no longer shows the token as an argument', async () => {
    const run = await cli(['verify', '--help']);
    expect(run.stdout).toContain('CYBERARK_ACCESS_TOKEN');
    expect(run.stdout).toContain('cyberark-bearer token --scope orders.read | cyberark-bearer verify');
    expect(run.stdout).not.toMatch(/verify "\$TOKEN"/);
    const main = await cli(['--help']);
    expect(main.stdout).not.toContain('verify <token>');
  });
});

describe.concurrent('verify: dates beyond any calendar', () => {
  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => Record<string, unknown>, string[]]>([
    ['exp 1e300', () => ({ exp: 1e300 }), []],
    ['exp just past the last Date', () => ({ exp: 8.64e12 + 1 }), []],
    ['exp -1e300', () => ({ exp: -1e300 }), []],
    ['nbf 1e300', () => ({ nbf: 1e300 }), []],
    ['iat 1e300', () => ({ iat: 1e300 }), []],
    ['iat -1e300 with a maximum age', () => ({ iat: -1e300, exp: now() + 60 }), ['--max-token-age', '600']],
  ])('does not crash on %s, and prints no impossible date', async (_case, claims, args) => {
    const token = issuer.mint(claims());
    const run = await cli(['verify', '-', ...args], verifyEnv(), token);
    expect(run.stderr).toBe('');
    expect([0, 1]).toContain(run.code);
    expect(run.stdout).toMatch(/^(valid|invalid): /);
    expect(run.stdout).not.toMatch(/Invalid|NaN/);
    const json = await cli(['verify', '-', '--json', ...args], verifyEnv(), token);
    expect(json.stderr).toBe('');
    expect(JSON.parse(json.stdout)).toHaveProperty('valid');
  });
});
