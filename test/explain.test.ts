/**
 * `auth.explain(token, required?)`: the verdict of the real request pipeline, with each check,
 * what the token says and what the configuration expects, against the test kit's issuer.
 */
import { generateKeyPairSync } from 'node:crypto';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions, type CheckName, type Explanation } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { guardedApp } from './support/apps.js';
import { check, UNKNOWN_ISSUER_VERDICTS, verdicts } from './support/explain.js';
import { silent } from './support/logger.js';

let issuer: TestIssuer;
let auth: BearerAuth;

beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api' });
  auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
});
afterAll(() => issuer.close());

const now = () => Math.floor(Date.now() / 1000);
const iso = (seconds: number) => new Date(seconds * 1000).toISOString();
const otherKey = () => generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey;

/** The explanation, after checking that it never holds the token (nor its signature). */
async function explain(
  token: string,
  required?: Parameters<BearerAuth['explain']>[1],
  by: BearerAuth = auth,
): Promise<Explanation> {
  const explanation = await by.explain(token, required);
  const text = JSON.stringify(explanation);
  const signature = token.split('.')[2] ?? '';
  if (token.length > 8) expect(text).not.toContain(token);
  if (signature.length > 8) expect(text).not.toContain(signature);
  return explanation;
}

const names = (list: string) => list.split(' ') as CheckName[];
/** The checks of the default configuration, in the order a request runs them. */
const CHECKS = names('syntax structure algorithm keys key signature claims issuer audience not_before expiry issued_at');

/** Verdicts when `failed` fails: the checks before it passed, those after it were not reached. */
function failingAt(failed: CheckName, checks: CheckName[] = CHECKS): Record<string, boolean | undefined> {
  const at = checks.indexOf(failed);
  return Object.fromEntries(checks.map((name, i) => [name, i < at ? true : i === at ? false : undefined]));
}

describe('auth.explain(): accepted', () => {
  it('passes every check, with the decoded header and claims and what req.auth would hold', async () => {
    const e = await explain(issuer.mint({ scope: 'orders.read' }));
    expect(e).toMatchObject({
      valid: true,
      header: { alg: 'RS256', kid: issuer.kid },
      claims: { iss: issuer.issuer, aud: 'orders-api', scope: 'orders.read' },
      auth: { clientId: 'test-client@cyberark.cloud.0000', scopes: ['orders.read'] },
    });
    expect(e.refusal).toBeUndefined();
    expect(e.checks.map((c) => c.check)).toEqual(CHECKS);
    expect(e.checks.every((c) => c.ok === true)).toBe(true);
    expect(check(e, 'issuer')).toMatchObject({ found: JSON.stringify(issuer.issuer), expected: JSON.stringify(issuer.issuer) });
    expect(check(e, 'key')).toMatchObject({
      found: JSON.stringify(issuer.kid),
      expected: `"${issuer.kid}" from ${issuer.jwksUri}`,
    });
  });

  it('checks the required scopes last', async () => {
    const e = await explain(issuer.mint({ scope: 'orders.read orders.write' }), ['orders.read', 'orders.write']);
    expect(e.valid).toBe(true);
    expect(e.checks.at(-1)).toEqual({
      check: 'scopes',
      ok: true,
      found: '"orders.read orders.write"',
      expected: 'orders.read orders.write',
    });
  });
});

describe('auth.explain(): refused, and why', () => {
  it('an expired token: the expiry check fails, with the date and the tolerance', async () => {
    const exp = now() - 3600;
    const e = await explain(issuer.mint({ exp }));
    expect(e.valid).toBe(false);
    expect(e.refusal).toEqual({ status: 401, error: 'invalid_token', reason: 'token_expired', description: 'token expired' });
    expect(verdicts(e)).toEqual(failingAt('expiry'));
    expect(check(e, 'expiry')!.found).toBe(iso(exp));
    expect(check(e, 'expiry')!.expected).toMatch(/^after \S+Z \(now less the clock tolerance of 30s\)$/);
  });

  it('a token too old for maxTokenAge: the age check fails', async () => {
    const old = createBearerAuth({ ...issuer.options, maxTokenAge: 600, logger: silent, env: {} });
    const iat = now() - 7200;
    const e = await explain(issuer.mint({ iat }), undefined, old);
    expect(e.refusal).toMatchObject({ reason: 'token_too_old' });
    expect(verdicts(e)).toEqual(failingAt('age', [...CHECKS.slice(0, -1), 'age', 'issued_at']));
    expect(check(e, 'age')!.found).toBe(iso(iat));
    expect(check(e, 'age')!.expected).toMatch(/^at or after \S+Z \(maximum age 600s, clock tolerance 30s\)$/);
  });

  it('a token not yet valid: the not-before check fails', async () => {
    const nbf = now() + 3600;
    const e = await explain(issuer.mint({ nbf }));
    expect(e.refusal).toMatchObject({ status: 401, reason: 'token_not_yet_valid' });
    expect(verdicts(e)).toEqual(failingAt('not_before'));
    expect(check(e, 'not_before')!.found).toBe(iso(nbf));
    expect(check(e, 'not_before')!.expected).toMatch(/^at or before \S+Z \(now plus the clock tolerance of 30s\)$/);
  });

  it('a token issued in the future: the issued-at check fails, with a hint about clocks', async () => {
    const e = await explain(issuer.mint({ iat: now() + 3600 }));
    expect(e.refusal).toMatchObject({ reason: 'issued_in_future' });
    expect(verdicts(e)).toEqual(failingAt('issued_at'));
    expect(check(e, 'issued_at')!.hint).toBe('check the clocks of the issuer and this host');
  });

  it('another issuer: the issuer check fails; a trailing slash apart, a hint says so', async () => {
    const bare = await explain(issuer.mint({ iss: issuer.issuer.slice(0, -1) }));
    expect(bare.refusal).toMatchObject({ reason: 'unexpected_issuer' });
    expect(verdicts(bare)).toEqual(failingAt('issuer'));
    expect(check(bare, 'issuer')).toEqual({
      check: 'issuer',
      ok: false,
      found: JSON.stringify(issuer.issuer.slice(0, -1)),
      expected: JSON.stringify(issuer.issuer),
      hint: 'they differ only by the trailing slash; issuers are compared exactly (CyberArk\'s end with "/")',
    });
    const other = await explain(issuer.mint({ iss: 'https://other.id.cyberark.cloud/orders-api/' }));
    expect(check(other, 'issuer')).toMatchObject({ ok: false, found: '"https://other.id.cyberark.cloud/orders-api/"' });
    expect(check(other, 'issuer')!.hint).toBeUndefined();
  });

  it('another issuer when keys are found per issuer: the checks before it were not reached', async () => {
    const second = `${issuer.url}/billing-api/`;
    const discovered = createBearerAuth({ issuer: [issuer.issuer, second], audience: 'orders-api', logger: silent, env: {} });
    const e = await explain(issuer.mint({ iss: 'https://other.example/' }), undefined, discovered);
    expect(e.refusal).toMatchObject({ reason: 'unexpected_issuer' });
    expect(verdicts(e)).toMatchObject(UNKNOWN_ISSUER_VERDICTS);
    expect(check(e, 'issuer')!.expected).toBe(`${JSON.stringify(issuer.issuer)}, ${JSON.stringify(second)}`);
  });

  it('another audience: the audience check fails', async () => {
    const e = await explain(issuer.mint({ aud: ['billing-api', 'reports-api'] }));
    expect(e.refusal).toMatchObject({ status: 401, reason: 'unexpected_audience' });
    expect(verdicts(e)).toEqual(failingAt('audience'));
    expect(check(e, 'audience')).toMatchObject({ found: '["billing-api","reports-api"]', expected: '"orders-api"' });
  });

  it('an unknown key id: the key check fails, naming the key ids held and where from', async () => {
    const e = await explain(issuer.mint({}, { kid: 'retired-key' }));
    expect(e.refusal).toMatchObject({ reason: 'unknown_key', description: 'token signed by an unknown key' });
    expect(verdicts(e)).toEqual(failingAt('key'));
    expect(check(e, 'key')).toMatchObject({ found: '"retired-key"', expected: `"${issuer.kid}" from ${issuer.jwksUri}` });
  });

  it('a signature by another key: the signature check fails, with a hint', async () => {
    const e = await explain(issuer.mint({}, {}, { key: otherKey() }));
    expect(e.refusal).toMatchObject({ reason: 'bad_signature', description: 'invalid signature' });
    expect(verdicts(e)).toEqual(failingAt('signature'));
    expect(check(e, 'signature')!.hint).toBe(
      'the signature does not match that key: the token was altered, or signed by another tenant',
    );
  });

  it('an algorithm not allowed: the algorithm check fails before the keys are reached', async () => {
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    const e = await explain(issuer.mint({}, { alg: 'ES256' }, { key: ec }));
    expect(e.refusal).toMatchObject({ reason: 'algorithm_not_allowed' });
    expect(verdicts(e)).toEqual(failingAt('algorithm'));
    expect(check(e, 'algorithm')).toMatchObject({ found: '"ES256"', expected: '"RS256"' });
    const none = await explain(issuer.mint({}, { alg: 'none' }));
    expect(check(none, 'algorithm')).toMatchObject({ ok: false, found: '"none"' });
  });

  it('a token of the wrong type in the strict profile: the type check fails', async () => {
    const strict = createBearerAuth({ ...issuer.options, strict: true, logger: silent, env: {} });
    const e = await explain(issuer.mint(), undefined, strict);
    expect(e.refusal).toMatchObject({ reason: 'unexpected_type' });
    expect(check(e, 'type')).toMatchObject({ ok: false, found: '"JWT"', expected: '"at+jwt"' });
    expect(verdicts(e)).toMatchObject({ signature: true, type: false, claims: undefined });
  });

  it('insufficient scope for `required`: 403, every other check passed', async () => {
    const e = await explain(issuer.mint({ scope: 'orders.read' }), 'orders.write');
    expect(e.refusal).toEqual({
      status: 403,
      error: 'insufficient_scope',
      reason: 'insufficient_scope',
      description: 'insufficient scope',
    });
    expect(verdicts(e)).toEqual(failingAt('scopes', [...CHECKS, 'scopes']));
    expect(check(e, 'scopes')).toMatchObject({ found: '"orders.read"', expected: 'orders.write' });
    const any = await explain(issuer.mint({ scope: 'orders.read' }), { anyOf: ['admin', 'orders.write'] });
    expect(check(any, 'scopes')).toMatchObject({ ok: false, expected: 'any of admin orders.write' });
  });

  it('an opaque token: the structure check fails, with a hint about the app setting', async () => {
    const e = await explain('aB3dE5fG7hJ9kL1mN3pQ5rS7tV9wX1yZ');
    expect(e.refusal).toMatchObject({ status: 401, reason: 'not_a_jwt' });
    expect(verdicts(e)).toEqual(failingAt('structure'));
    expect(check(e, 'structure')!.hint).toBe('an opaque token: set the token type of the CyberArk app to JWT');
    expect(e.header).toBeUndefined();
    expect(e.claims).toBeUndefined();
  });

  it('a token without exp: the claims check fails (RFC 8725)', async () => {
    const e = await explain(issuer.mint({ exp: undefined }));
    expect(e.refusal).toMatchObject({ reason: 'missing_expiry' });
    expect(verdicts(e)).toEqual(failingAt('claims'));
    expect(check(e, 'claims')).toMatchObject({ found: 'missing exp', hint: 'tokens without exp are never accepted (RFC 8725)' });
  });

  it('malformed tokens and garbage: the syntax or structure check fails, and explain() resolves', async () => {
    const malformed = await explain('eyJhbGciOiJSUzI1NiJ9.e30.c2ln.');
    expect(malformed.refusal).toMatchObject({ reason: 'malformed_token' });
    expect(verdicts(malformed)).toEqual(failingAt('structure'));

    const prefixed = await explain(`Bearer ${issuer.mint()}`);
    expect(prefixed.refusal).toMatchObject({ status: 400, error: 'invalid_request', reason: 'several_tokens' });
    expect(verdicts(prefixed)).toEqual(failingAt('syntax'));
    expect(check(prefixed, 'syntax')).toMatchObject({
      found: 'U+0020 at character 7',
      hint: 'pass the token without the "Bearer " prefix',
    });

    const newline = await explain(`${issuer.mint()}\n`);
    expect(check(newline, 'syntax')).toMatchObject({ ok: false, hint: 'remove the white space around the token' });
    expect(newline.claims).toMatchObject({ iss: issuer.issuer });

    for (const garbage of ['', '\u001b[31m', 'a'.repeat(100_000), '....', '\u202e.\u0000.x']) {
      const e = await explain(garbage);
      expect(e.valid).toBe(false);
      expect(e.checks.filter((c) => c.ok === false)).toHaveLength(1);
    }
    await expect(auth.explain(undefined as unknown as string)).rejects.toThrow(TypeError);
  });
});

describe('auth.explain(): signing keys unavailable', () => {
  let down: TestIssuer;
  beforeAll(async () => {
    down = await createTestIssuer({ appId: 'orders-api' });
    down.setFault('jwks', 'error');
    down.setFault('discovery', 'down');
  });
  afterAll(() => down.close());

  it('the keys check fails, with the fetch problem from status()', async () => {
    const e = await explain(down.mint(), undefined, createBearerAuth({ ...down.options, logger: silent, env: {} }));
    expect(e.refusal).toEqual({
      status: 503,
      error: 'temporarily_unavailable',
      reason: 'keys_unavailable',
      description: 'signing keys unavailable, try again later',
    });
    expect(verdicts(e)).toEqual(failingAt('keys'));
    expect(check(e, 'keys')!.hint).toBe(`cannot fetch signing keys from ${down.jwksUri}: HTTP 500`);
  });

  it('names the discovery URL when discovery is what fails', async () => {
    const discovered = createBearerAuth({ issuer: down.issuer, audience: 'orders-api', logger: silent, env: {} });
    const e = await explain(down.mint(), undefined, discovered);
    expect(e.refusal).toMatchObject({ reason: 'keys_unavailable' });
    expect(check(e, 'keys')!.hint).toBe(`cannot fetch signing keys from ${down.discoveryUrl}: connection failed`);
  });
});

describe('auth.explain() agrees with the middleware', () => {
  it.each<[string, () => string]>([
    ['valid', () => issuer.mint({ scope: 'orders.read' })],
    ['expired', () => issuer.mint({ scope: 'orders.read', exp: now() - 60 })],
    ['another audience', () => issuer.mint({ scope: 'orders.read', aud: 'x' })],
    ['forged', () => issuer.mint({ scope: 'orders.read' }, {}, { key: otherKey() })],
    ['without the scope', () => issuer.mint({ scope: 'orders.write' })],
    ['opaque', () => 'opaque-token'],
  ])('%s', async (_case, mint) => {
    const options: BearerAuthOptions = { ...issuer.options, logger: silent, env: {} };
    const guard = createBearerAuth(options);
    const app = guardedApp(guard.requireToken('orders.read'), { path: '/orders' });
    const token = mint();
    const response = await request(app).get('/orders').set('Authorization', `Bearer ${token}`);
    const e = await explain(token, 'orders.read', guard);
    const answer = e.valid ? { status: 200 } : { status: e.refusal.status, error: e.refusal.error };
    expect({
      status: response.status,
      ...(response.status !== 200 && { error: (response.body as { error: string }).error }),
    }).toEqual(answer);
  });
});
