/**
 * The `cyberark-bearer` command with hostile input: where it takes the token from (never only the
 * command line), claim values no date can hold, and claims that try to drive the terminal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { useCli } from '../support/cli.js';
import { scriptedServer, tokenAnswer } from '../support/scripted-server.js';

let issuer: TestIssuer;
const cli = useCli('cli-safety');

beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api' });
});
afterAll(() => issuer.close());

const verifyEnv = (extra: Record<string, string> = {}) => ({
  CYBERARK_TENANT_URL: issuer.url,
  CYBERARK_APP_ID: 'orders-api',
  CYBERARK_AUDIENCE: 'orders-api',
  ...extra,
});

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

/** Any character that a terminal may act on: C0 but the line feed, DEL, C1, bidi controls. */
const RAW_CONTROL = /(?!\n)[\p{Cc}\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/u;
const ESC_RED = '\u001b[31mred\u001b[0m';
const CSI_CLEAR = '\u009b2J';
const RLO = '\u202egnp.exe';
const TITLE = '\u001b]0;owned\u0007';

describe.concurrent('terminal control characters in what the CLI prints', () => {
  const hostile = () => issuer.mint({ client_id: ESC_RED, sub: `${CSI_CLEAR}${RLO}`, scope: `orders.read ${TITLE}` });

  it('escapes them in the claims of a valid token', async () => {
    const run = await cli(['verify', '-'], verifyEnv(), hostile());
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(run.stdout).toContain('client    \\u001b[31mred\\u001b[0m');
    expect(run.stdout).toContain('subject   \\u009b2J\\u202egnp.exe');
    expect(run.stdout).toContain('\\u001b]0;owned\\u0007');
  });

  it('keeps the JSON verdict exact, with every control character escaped', async () => {
    const run = await cli(['verify', '-', '--json'], verifyEnv(), hostile());
    expect(run.code).toBe(0);
    expect(run.stdout).not.toMatch(RAW_CONTROL);
    expect(JSON.parse(run.stdout)).toMatchObject({
      valid: true,
      clientId: ESC_RED,
      subject: `${CSI_CLEAR}${RLO}`,
      claims: { sub: `${CSI_CLEAR}${RLO}` },
    });
  });

  it('lets no claim start a line of its own', async () => {
    const run = await cli(['verify', '-'], verifyEnv(), issuer.mint({ sub: 'x\nvalid: forged\r\n' }));
    expect(run.stdout).not.toMatch(/^valid: forged/m);
    expect(run.stdout).toContain('subject   x\\u000avalid: forged\\u000d\\u000a');
  });

  it('escapes them in why a token is refused: audience, key id, scopes', async () => {
    const aud = await cli(['verify', '-'], verifyEnv(), issuer.mint({ aud: `${CSI_CLEAR}${RLO}` }));
    expect(aud.stdout).toMatch(/unexpected audience/);
    const kid = await cli(['verify', '-', '--json'], verifyEnv(), issuer.mint({}, { kid: `k${CSI_CLEAR}${RLO}` }));
    expect(JSON.parse(kid.stdout)).toMatchObject({ reason: 'unknown_key' });
    const scope = await cli(
      ['verify', '-', '--scope', 'orders.write'],
      verifyEnv(),
      issuer.mint({ scope: `${CSI_CLEAR} orders.read` }),
    );
    expect(scope.stdout).toMatch(/insufficient scope/);
    for (const run of [aud, kid, scope]) {
      expect(run.code).toBe(1);
      expect(run.stdout).not.toMatch(RAW_CONTROL);
    }
  });

  it('escapes them in a decoded token and in command-line mistakes', async () => {
    const server = await scriptedServer([tokenAnswer(hostile())]);
    try {
      const decoded = await cli(
        ['token', '--decode', '--token-url', `${server.url}/token`, '--client-id', 'svc', '--client-secret-stdin'],
        {},
        'secret-1234\n',
      );
      expect(decoded.code).toBe(0);
      expect(decoded.stdout).not.toMatch(RAW_CONTROL);
      expect(JSON.parse(decoded.stdout)).toMatchObject({ claims: { sub: `${CSI_CLEAR}${RLO}`, client_id: ESC_RED } });
    } finally {
      await server.close();
    }
    const usage = await cli(['verify', '-', `--audi${CSI_CLEAR}ence`, 'x'], verifyEnv(), issuer.mint());
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('Unknown option');
    expect(usage.stderr).not.toMatch(RAW_CONTROL);
  });
});
