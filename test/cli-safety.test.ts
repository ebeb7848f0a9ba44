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

const verifyEnv = () => ({ CYBERARK_TENANT_URL: issuer.url, CYBERARK_APP_ID: 'orders-api', CYBERARK_AUDIENCE: 'orders-api' });

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
