/**
 * Explanations of opaque tokens and revocation-sensitive checks: `auth.explain()` lists the checks
 * a token introspected alone runs, with the answer, and `cyberark-bearer verify --introspect`
 * prints them (run as a process), never the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuth, type Explanation } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { silent } from '../support/logger.js';
import { useCli } from '../support/cli.js';
import { AUDIENCE, ORDERS_API, REPORTING } from './harness.js';

let issuer: TestIssuer;
let auth: BearerAuth;
const cli = useCli('introspection-cli');

beforeAll(async () => {
  issuer = await createTestIssuer({
    appId: 'orders-api',
    audience: AUDIENCE,
    clients: [REPORTING, ORDERS_API],
    tokenType: 'opaque',
  });
  auth = createBearerAuth({ ...issuer.options, tokens: 'any', introspection: ORDERS_API, logger: silent, env: {} });
});
afterAll(() => issuer.close());

const caller = { unique_name: REPORTING.clientId, scope: 'orders.read' };
const outcome = (e: Explanation) => e.checks.map((c) => `${c.check}:${c.ok === undefined ? '-' : c.ok}`);

describe('auth.explain() of an opaque token', () => {
  it('runs syntax, structure, introspection, issuer, audience, expiry and scopes, and gives the answer', async () => {
    const e = await auth.explain(issuer.mintOpaque(caller), 'orders.read');
    expect(e.valid).toBe(true);
    expect(outcome(e)).toEqual([
      'syntax:true',
      'structure:true',
      'introspection:true',
      'issuer:true',
      'audience:true',
      'expiry:true',
      'scopes:true',
    ]);
    expect(e.checks.find((c) => c.check === 'introspection')).toMatchObject({
      found: 'active',
      expected: `active, at ${issuer.introspectionUrl}`,
    });
    expect(e.introspection).toMatchObject({ active: true, client_id: REPORTING.clientId, scope: 'orders.read' });
    expect(e.auth).toMatchObject({ clientId: REPORTING.clientId, scopes: ['orders.read'] });
  });

  it('says the issuer found it inactive', async () => {
    const token = issuer.mintOpaque(caller);
    issuer.revoke(token);
    const e = await auth.explain(token);
    expect(e.refusal).toMatchObject({ status: 401, reason: 'token_inactive', description: 'token is not active' });
    expect(outcome(e)).toEqual(['syntax:true', 'structure:true', 'introspection:false', 'issuer:-', 'audience:-', 'expiry:-']);
    expect(e.checks[2]!.hint).toMatch(/revoked, expired, or its service user disabled/);
    expect(e.introspection).toEqual({ active: false });
  });

  it('shows an active answer refused for its audience', async () => {
    const e = await auth.explain(issuer.mintOpaque({ ...caller, aud: 'billing-api' }));
    expect(outcome(e)).toEqual([
      'syntax:true',
      'structure:true',
      'introspection:true',
      'issuer:true',
      'audience:false',
      'expiry:-',
    ]);
    expect(e.introspection).toMatchObject({ active: true, aud: 'billing-api' });
  });

  it('fails structure for a string too short to be a token, without a call', async () => {
    const before = issuer.introspections;
    const e = await auth.explain('short-token');
    expect(outcome(e).slice(0, 3)).toEqual(['syntax:true', 'structure:false', 'introspection:-']);
    expect(e.checks[1]!.expected).toBe('a token of 16 to 16384 characters');
    expect(issuer.introspections).toBe(before);
  });

  it('says why the endpoint is unavailable', async () => {
    const failing = await createTestIssuer({ appId: 'orders-api', audience: AUDIENCE, clients: [ORDERS_API] });
    try {
      failing.setFault('introspect', 'error');
      const a = createBearerAuth({ ...failing.options, tokens: 'opaque', introspection: ORDERS_API, logger: silent, env: {} });
      const e = await a.explain(failing.mintOpaque());
      expect(e.refusal).toMatchObject({ status: 503, reason: 'introspection_unavailable' });
      expect(e.checks.find((c) => c.check === 'introspection')!.hint).toBe('the introspection endpoint fails: HTTP 500');
    } finally {
      await failing.close();
    }
  });

  it('lists introspection after the local checks of a JWT on a revocation-sensitive route only', async () => {
    const jwt = issuer.mint({ ...caller, jti: 'explained' });
    expect((await auth.explain(jwt)).checks.map((c) => c.check)).not.toContain('introspection');
    const e = await auth.explain(jwt, 'orders.read', { revocation: 'introspect' });
    expect(e.checks.map((c) => c.check).slice(-2)).toEqual(['introspection', 'scopes']);
    expect(e.valid).toBe(true);
    expect(e.introspection).toMatchObject({ active: true });
  });
});

describe('cyberark-bearer verify --introspect', () => {
  const env = (token: string, secret: string = ORDERS_API.clientSecret): Record<string, string> => ({
    CYBERARK_TENANT_URL: issuer.url,
    CYBERARK_APP_ID: 'orders-api',
    CYBERARK_AUDIENCE: AUDIENCE,
    CYBERARK_INTROSPECTION_CLIENT_ID: ORDERS_API.clientId,
    CYBERARK_INTROSPECTION_CLIENT_SECRET: secret,
    CYBERARK_ACCESS_TOKEN: token,
  });

  it("shows the answer's fields for an opaque token, and never the secret", async () => {
    const run = await cli(['verify', '--introspect', '--scope', 'orders.read'], env(issuer.mintOpaque(caller)));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^valid: the API would accept this token\n {2}client {4}svc-reporting@cyberark\.cloud\.1234\n/);
    expect(run.stdout).toContain(`introspection: the answer of ${issuer.introspectionUrl}\n`);
    expect(run.stdout).toMatch(/^ {2}active +true$/m);
    expect(run.stdout).toMatch(/^ {2}client_id +svc-reporting@cyberark\.cloud\.1234$/m);
    expect(run.stdout).toMatch(/^ {2}exp +\d{4}-\d\d-\d\dT.*\(in (59m|1h 0m)/m);
    for (const stream of [run.stdout, run.stderr]) {
      expect(stream).not.toContain(ORDERS_API.clientSecret);
      expect(stream).not.toContain(encodeURIComponent(ORDERS_API.clientSecret));
    }
  });

  it('refuses a revoked JWT (exit 1) with the reason and the answer, as JSON too', async () => {
    const jwt = issuer.mint({ ...caller, jti: 'cli-revoked' });
    issuer.revoke(jwt);
    const plain = await cli(['verify'], env(jwt));
    expect(plain.code).toBe(0); // local verification alone cannot see the revocation
    const run = await cli(['verify', '--introspect'], env(jwt));
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(
      'invalid: token is not active\n  reason    token_inactive (the API would answer 401 invalid_token)\n',
    );
    expect(run.stdout).toMatch(/^ {2}active +false$/m);
    const json = await cli(['verify', '--introspect', '--json'], env(jwt));
    expect(JSON.parse(json.stdout)).toMatchObject({ valid: false, reason: 'token_inactive', introspection: { active: false } });
  });

  it('withholds a member that repeats the secret', async () => {
    const run = await cli(
      ['verify', '--introspect', '--json'],
      env(issuer.mintOpaque({ ...caller, note: `x ${ORDERS_API.clientSecret}` })),
    );
    expect((JSON.parse(run.stdout) as { introspection: { note: string } }).introspection.note).toBe(
      '(withheld: it repeats the client secret)',
    );
    expect(run.stdout).not.toContain(ORDERS_API.clientSecret);
  });

  it('needs the secret in the environment (exit 2), and has no flag for it', async () => {
    const run = await cli(['verify', '--introspect'], env(issuer.mintOpaque(caller), ''));
    expect(run.code).toBe(2);
    expect(run.stderr).toContain('option "introspection.clientSecret" (env CYBERARK_INTROSPECTION_CLIENT_SECRET) is required');
    const help = await cli(['verify', '--help']);
    expect(help.stdout).toMatch(/--introspect +Ask the introspection endpoint too/);
    expect(help.stdout).not.toMatch(/--introspection-client-secret/);
  });
});
