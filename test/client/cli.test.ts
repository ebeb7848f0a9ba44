/**
 * The `cyberark-bearer` command run as a process, as a user runs it, against the test kit's
 * issuer: help, token (raw, decoded, JSON, refused), verify (valid, and why it is refused).
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { useCli } from '../support/cli.js';
import { freePort } from '../support/http.js';
import { silent } from '../support/logger.js';
import { scriptedServer } from '../support/scripted-server.js';
import { ECHOED_CLIENT, echoedSecretForms, echoingRefusal, SECRET_ECHOES } from '../support/secret-echoes.js';

const SECRET = 'cli-secret-7f3a+9';
let issuer: TestIssuer;
const cli = useCli('client-cli');

beforeAll(async () => {
  issuer = await createTestIssuer({
    appId: 'orders-api',
    audience: 'orders-api',
    clients: [{ clientId: 'svc-cli@cyberark.cloud.1234', clientSecret: SECRET, scopes: ['orders.read', 'orders.write'] }],
  });
});
afterAll(() => issuer.close());

const tenantEnv = () => ({ CYBERARK_TENANT_URL: issuer.url, CYBERARK_APP_ID: 'orders-api' });
const clientEnv = () => ({ ...tenantEnv(), CYBERARK_CLIENT_ID: 'svc-cli@cyberark.cloud.1234', CYBERARK_CLIENT_SECRET: SECRET });
const verifyEnv = (token?: string) => ({
  ...tenantEnv(),
  CYBERARK_AUDIENCE: 'orders-api',
  ...(token === undefined ? {} : { CYBERARK_ACCESS_TOKEN: token }),
});

// Each test starts its own process: run them side by side to keep the suite fast.
describe.concurrent('cyberark-bearer --help', () => {
  it('lists the commands and the exit codes', async () => {
    const run = await cli(['--help']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: cyberark-bearer <command>/);
    expect(run.stdout).toContain('token ');
    expect(run.stdout).toMatch(/^ {2}verify +Check a token/m);
    expect(run.stdout).toContain('Exit codes: 0 success, 1 token refused or not obtained, 2 wrong usage or configuration.');
  });

  it.each([
    ['token', '--help'],
    ['verify', '-h'],
    ['help', 'verify'],
  ])('shows the options of a command: %s %s', async (...args) => {
    const run = await cli(args);
    expect(run.code).toBe(0);
    const command = args[0] === 'help' ? args[1] : args[0];
    expect(run.stdout).toMatch(new RegExp(`^Usage: cyberark-bearer ${command}`));
    expect(run.stdout).toContain('--tenant-url <url>');
    expect(run.stdout).toContain('--json');
  });

  it('runs from source with tsx too', async () => {
    const run = await cli(['--help'], {}, undefined, ['node_modules/.bin/tsx', 'src/cli/main.ts']);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^Usage: cyberark-bearer <command>/);
  });

  it('answers a missing or unknown command with the usage and exit code 2', async () => {
    const none = await cli([]);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('Usage: cyberark-bearer');
    const unknown = await cli(['tokne']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "tokne" (commands: token, verify)');
  });
});

describe.concurrent('cyberark-bearer token', () => {
  it('prints a token for the client in the environment, which the middleware accepts', async () => {
    const run = await cli(['token', '--scope', 'orders.read'], clientEnv());
    expect(run).toMatchObject({ code: 0, stderr: '' });
    expect(run.stdout).toMatch(/^ey[\w-]+\.[\w-]+\.[\w-]+\n$/);
    const verified = await createBearerAuth({ ...issuer.options, logger: silent }).verify(run.stdout.trim());
    expect(verified).toMatchObject({ clientId: 'svc-cli@cyberark.cloud.1234', scopes: ['orders.read'] });
  });

  it('takes options on the command line and the secret on stdin, and decodes the token', async () => {
    const run = await cli(
      [
        'token',
        '--tenant-url',
        issuer.url,
        '--app-id',
        'orders-api',
        '--client-id',
        'svc-cli@cyberark.cloud.1234',
        '--client-secret-stdin',
        '--scope',
        'orders.read orders.write',
        '--auth-method',
        'basic',
        '--decode',
      ],
      {},
      `${SECRET}\n`,
    );
    expect(run.code).toBe(0);
    const decoded = JSON.parse(run.stdout) as { header: Record<string, unknown>; claims: Record<string, unknown> };
    expect(decoded.header).toMatchObject({ alg: 'RS256', kid: issuer.kid });
    expect(decoded.claims).toMatchObject({
      iss: issuer.issuer,
      aud: 'orders-api',
      unique_name: 'svc-cli@cyberark.cloud.1234',
      scope: 'orders.read orders.write',
    });
  });

  it('prints JSON for scripts', async () => {
    const run = await cli(['token', '--json'], clientEnv());
    expect(run.code).toBe(0);
    const body = JSON.parse(run.stdout) as Record<string, unknown>;
    expect(body).toMatchObject({
      token_type: 'Bearer',
      scope: 'orders.read orders.write',
      access_token: expect.stringMatching(/^ey/),
    });
    expect(body.expires_at).toBeGreaterThan(Date.now() / 1000 + 3500);
  });

  it('reports a refused request with the OAuth error, exit code 1, and never the secret', async () => {
    const wrong = 'wrong-secret-93d1';
    const run = await cli(['token'], { ...clientEnv(), CYBERARK_CLIENT_SECRET: wrong });
    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain('refused by');
    expect(run.stderr).toContain('invalid_client (client authentication failed)');
    expect(run.stderr + run.stdout).not.toContain(wrong);

    const json = await cli(['token', '--json', '--scope', 'admin'], clientEnv());
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({
      ok: false,
      code: 'ERR_CLIENT_TOKEN_REFUSED',
      status: 400,
      error: 'invalid_scope',
    });
    expect(json.stdout + json.stderr).not.toContain(SECRET);
  });

  it('names the missing option, its flag and its env var, with exit code 2', async () => {
    const run = await cli(['token'], tenantEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('option "clientId" (env CYBERARK_CLIENT_ID) is required');
    expect(run.stderr).toContain('--client-id');
    expect(run.stderr).toContain('See "cyberark-bearer token --help".');
  });

  it('has no --client-secret flag, and says where the secret goes instead', async () => {
    const run = await cli(['token', '--client-secret', 'argv-secret-1234'], clientEnv());
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(
      'there is no --client-secret: pass the secret in CYBERARK_CLIENT_SECRET or on stdin with --client-secret-stdin',
    );
    expect(run.stderr).not.toContain('argv-secret-1234');
  });
});

describe.concurrent('cyberark-bearer token, against an endpoint that echoes the secret', () => {
  // One process per output and form is slow: the forms one by one are client.test.ts's part.
  const forms = SECRET_ECHOES.filter(([form]) => form === 'the Basic header received' || form === 'JSON-escaped, ASCII only');
  it.each(forms)('%s: neither the message, the JSON nor the log shows it', async (_form, basic, echo) => {
    const inDescription = await scriptedServer([echoingRefusal('error_description', echo)]);
    const inError = await scriptedServer([echoingRefusal('error', echo)]);
    try {
      const env = { CYBERARK_CLIENT_ID: ECHOED_CLIENT.clientId, CYBERARK_CLIENT_SECRET: ECHOED_CLIENT.clientSecret };
      const args = ['--auth-method', basic ? 'basic' : 'body'];
      const runs = await Promise.all([
        cli(['token', '--token-url', `${inDescription.url}/t`, '--verbose', ...args], env),
        cli(['token', '--token-url', `${inDescription.url}/t`, '--json', ...args], env),
        cli(['token', '--token-url', `${inError.url}/t`, '--verbose', ...args], env),
      ]);
      expect(runs.map((run) => run.code)).toEqual([1, 1, 1]);
      const output = runs
        .map((run) => run.stdout + run.stderr)
        .join('\n')
        .toLowerCase();
      for (const form of echoedSecretForms()) expect(output).not.toContain(form.toLowerCase());
      expect(runs[0].stderr).toContain('token request refused');
      expect(JSON.parse(runs[1].stdout)).toMatchObject({ error: 'invalid_client', error_description: null });
    } finally {
      await inDescription.close();
      await inError.close();
    }
  });
});

describe.concurrent('cyberark-bearer verify', () => {
  it('accepts a valid token, exit code 0, reading it from stdin with a Bearer prefix', async () => {
    const token = issuer.mint({ scope: 'orders.read', unique_name: 'svc-reporting' });
    const run = await cli(['verify', '-', '--scope', 'orders.read'], verifyEnv(), `Bearer ${token}\n`);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^valid: the API would accept this token\n/);
    expect(run.stdout).toContain('client    svc-reporting');
    expect(run.stdout).toContain('scopes    orders.read');
  });

  it.each<[string, () => string, string[], RegExp[]]>([
    [
      'expired',
      () => issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      [],
      [
        /^invalid: token expired\n/,
        /reason +token_expired \(the API would answer 401 invalid_token\)/,
        /expired +\S+Z \(1h 0m ago\), clock tolerance 30s/,
      ],
    ],
    [
      'for another audience',
      () => issuer.mint({ aud: 'billing-api' }),
      [],
      [/unexpected audience/, /token aud "billing-api"/, /accepted +"orders-api"/],
    ],
    [
      'from an issuer without the trailing slash',
      () => issuer.mint({ iss: issuer.issuer.slice(0, -1) }),
      [],
      [/unexpected issuer/, /differ only by the trailing slash/],
    ],
    [
      'signed by an unknown key',
      () => issuer.mint({}, { kid: 'retired-key' }),
      [],
      [
        /token signed by an unknown key/,
        /token kid "retired-key"/,
        /keys +"[\w-]+" from http:\/\/127\.0\.0\.1:\d+\/OAuth2\/Keys\/orders-api/,
      ],
    ],
    [
      'with a forged signature',
      () => issuer.mint({}, {}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey }),
      [],
      [/invalid signature/, /reason +bad_signature/],
    ],
    [
      'without the required scope',
      () => issuer.mint({ scope: 'orders.read' }),
      ['--scope', 'orders.write'],
      [/insufficient scope/, /403 insufficient_scope/, /token +"orders.read"/, /required +orders.write/],
    ],
    ['that is opaque', () => 'not-a-jwt', [], [/token is not a JWT/, /set the token type of the CyberArk app to JWT/]],
  ])('refuses a token %s and says why, exit code 1', async (_case, token, args, expected) => {
    const run = await cli(['verify', ...args], verifyEnv(token()));
    expect(run.code).toBe(1);
    for (const pattern of expected) expect(run.stdout).toMatch(pattern);
  });

  it('reports unreachable signing keys with the URL and the problem', async () => {
    const closed = await freePort();
    const run = await cli(['verify', '--jwks-uri', `http://127.0.0.1:${closed}/keys`], verifyEnv(issuer.mint()));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain('invalid: signing keys unavailable, try again later');
    expect(run.stdout).toContain(`cannot fetch signing keys from http://127.0.0.1:${closed}/keys: connection failed`);
  });

  it('prints the verdict as JSON for scripts', async () => {
    const ok = await cli(['verify', '--json'], verifyEnv(issuer.mint({ scope: 'orders.read' })));
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({ valid: true, scopes: ['orders.read'], claims: { aud: 'orders-api' } });
    const refused = await cli(['verify', '--json'], verifyEnv(issuer.mint({ aud: 'x' })));
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.stdout)).toMatchObject({
      valid: false,
      status: 401,
      error: 'invalid_token',
      reason: 'unexpected_audience',
      details: ['token aud "x"', 'accepted  "orders-api"'],
    });
  });

  it('takes the configuration from flags, and names what is missing', async () => {
    const token = issuer.mint();
    const flags = await cli(
      ['verify', '-', '--tenant-url', issuer.url, '--app-id', 'orders-api', '--audience', 'orders-api'],
      {},
      token,
    );
    expect(flags.code).toBe(0);
    const missing = await cli(['verify', '-'], tenantEnv(), token);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('option "audience" (env CYBERARK_AUDIENCE) is required');
    expect(missing.stderr).toContain('(command line: --audience)');
    const noToken = await cli(['verify'], verifyEnv());
    expect(noToken.code).toBe(2);
    expect(noToken.stderr).toContain('the token to verify is missing');
    const badFlag = await cli(['verify', '--audiance', 'x'], verifyEnv(token));
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toContain("Unknown option '--audiance'");
    const badScope = await cli(['verify', '--any-scope', 'a"b'], verifyEnv(token));
    expect(badScope.code).toBe(2);
    expect(badScope.stderr).toContain('invalid scope "a\\"b"');
    expect(badScope.stderr).toContain('(command line: --any-scope)');
  });
});
