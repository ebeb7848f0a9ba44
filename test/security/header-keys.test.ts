/**
 * Attacks through the JOSE header: keys offered by the token itself (`jwk`, `jku`, `x5u`, `x5c`),
 * hostile `kid` values, a missing `kid` among several keys, `crit` and `b64`.
 * Keys come only from the configured JWKS: nothing the header points at is fetched or used.
 */
import { createHash, createPrivateKey, generateKeyPairSync, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { listen, type Listening } from '../support/http.js';
import { useForge } from './forge.js';
import { AUDIENCE, b64url, expectRefusal, invalidToken, startTarget, useTarget, useWarmTarget } from './harness.js';

const BAD_SIGNATURE = invalidToken('invalid signature', 'bad_signature');
const UNKNOWN_KEY = invalidToken('token signed by an unknown key', 'unknown_key');
const MALFORMED = invalidToken('malformed token', 'malformed_token');
const UNSUPPORTED = invalidToken('token uses an unsupported feature', 'unsupported_token');

const fixture = (name: string) => readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8');

describe('keys offered by the token header', () => {
  const t = useWarmTarget(); // keys cached; every later fetch would be counted
  let attacker: TestIssuer;
  let lure: Listening;
  let lureHits = 0;
  let lureUrl: string;
  const attackerKey = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const attackerJwk = attackerKey.publicKey.export({ format: 'jwk' });
  const thumbprint = b64url(
    createHash('sha256')
      .update(JSON.stringify({ e: attackerJwk.e, kty: 'RSA', n: attackerJwk.n }))
      .digest(),
  );

  beforeAll(async () => {
    // The attacker's own CyberArk-like issuer, minting tokens with our iss and aud.
    attacker = await createTestIssuer({ appId: 'orders-api', audience: AUDIENCE, issuer: t.issuer.issuer });
    lure = await listen((_req, res) => {
      lureHits++;
      res.end(fixture('attacker.cert.pem'));
    });
    lureUrl = `${lure.url}/cert.pem`;
  });
  afterAll(async () => {
    await attacker.close();
    await lure.close();
  });

  it('embedded jwk (CVE-2018-0114) with the tenant kid, signed by the attacker key → 401 bad_signature', async () => {
    const token = t.mint({}, { jwk: attackerJwk }, { key: attackerKey.privateKey });
    expectRefusal(await t.bearer(token), BAD_SIGNATURE, t);
  });

  it('embedded jwk with its own thumbprint as kid → 401 unknown_key', async () => {
    const token = t.mint({}, { jwk: { ...attackerJwk, kid: thumbprint }, kid: thumbprint }, { key: attackerKey.privateKey });
    expectRefusal(await t.bearer(token), UNKNOWN_KEY, t);
  });

  it('embedded jwk and no kid at all → 401 bad_signature (the one configured key is used)', async () => {
    const token = t.mint({}, { jwk: attackerJwk, kid: undefined }, { key: attackerKey.privateKey });
    expectRefusal(await t.bearer(token), BAD_SIGNATURE, t);
  });

  it("jku pointing at the attacker's JWKS, attacker kid → 401 unknown_key, and the JWKS is never fetched", async () => {
    const token = attacker.mint({ scope: 'orders.read' }, { jku: attacker.jwksUri });
    expectRefusal(await t.bearer(token), UNKNOWN_KEY, t);
    expect(attacker.jwksFetches).toBe(0);
  });

  it("jku pointing at the attacker's JWKS, tenant kid → 401 bad_signature, never fetched", async () => {
    const token = attacker.mint({ scope: 'orders.read' }, { jku: attacker.jwksUri, kid: t.issuer.kid });
    expectRefusal(await t.bearer(token), BAD_SIGNATURE, t);
    expect(attacker.jwksFetches).toBe(0);
  });

  it("x5u pointing at the attacker's certificate → 401 bad_signature, never fetched", async () => {
    const key = createPrivateKey(fixture('attacker.key.pem'));
    const token = t.mint({}, { x5u: lureUrl }, { key });
    expectRefusal(await t.bearer(token), BAD_SIGNATURE, t);
    expect(lureHits).toBe(0);
  });

  it("x5c carrying the attacker's self-signed certificate, tenant kid → 401 bad_signature", async () => {
    const pem = fixture('attacker.cert.pem');
    const der = new X509Certificate(pem).raw.toString('base64');
    const key = createPrivateKey(fixture('attacker.key.pem'));
    expect(new X509Certificate(pem).checkPrivateKey(key)).toBe(true); // the attack is self-consistent
    expectRefusal(await t.bearer(t.mint({}, { x5c: [der] }, { key })), BAD_SIGNATURE, t);
  });

  it("x5c with the certificate's x5t#S256 as kid → 401 unknown_key", async () => {
    const cert = new X509Certificate(fixture('attacker.cert.pem'));
    const x5t = b64url(createHash('sha256').update(cert.raw).digest());
    const token = t.mint(
      {},
      { x5c: [cert.raw.toString('base64')], 'x5t#S256': x5t, kid: x5t },
      { key: createPrivateKey(fixture('attacker.key.pem')) },
    );
    expectRefusal(await t.bearer(token), UNKNOWN_KEY, t);
  });
});

describe('hostile kid values', () => {
  const t = useWarmTarget();

  const kidLogged = () => t.log.lines.find((l) => l.msg === 'bearer token refused')?.kid;

  it('a kid of 8 000 characters → 401 unknown_key, not logged', async () => {
    expectRefusal(await t.bearer(t.mint({}, { kid: 'k'.repeat(8000) })), UNKNOWN_KEY, t);
    expect(kidLogged()).toBeUndefined();
  });

  it.each([
    ['path traversal', '../../../../etc/passwd'],
    ['a Windows path', '..\\..\\windows\\win.ini'],
    ['SQL injection', "' OR '1'='1' --"],
    ['a URL', 'https://attacker.example/key.pem'],
    ['a prototype name', '__proto__'],
    ['an empty string', ''],
  ])('kid with %s → 401 unknown_key', async (_case, kid) => {
    expectRefusal(await t.bearer(t.mint({}, { kid })), UNKNOWN_KEY, t);
  });

  it.each([
    ['a NUL byte', 'key\u0000id'],
    ['CR LF (header injection)', 'key\r\nX-Injected: 1'],
    ['non-ASCII', 'ключ-🔑'],
  ])('kid with %s → 401 unknown_key, not logged, no header injected', async (_case, kid) => {
    const res = await t.bearer(t.mint({}, { kid }));
    expectRefusal(res, UNKNOWN_KEY, t);
    expect(res.headers['x-injected']).toBeUndefined();
    expect(kidLogged()).toBeUndefined();
  });

  it.each([
    ['a number', 1],
    ['an object', { $ne: null }],
    ['an array', ['a', 'b']],
    ['null', null],
  ])('kid that is %s → 401 malformed_token', async (_case, kid) => {
    expectRefusal(await t.bearer(t.mint({}, { kid })), MALFORMED, t);
  });
});

describe('a missing kid', () => {
  it('when the JWKS holds several keys → 401 ambiguous_key; with one key it is verified against that key', async () => {
    const t = await startTarget();
    try {
      await t.bearer(t.mint({}, { kid: undefined })).expect(200);
    } finally {
      await t.close();
    }
    const several = await startTarget();
    try {
      several.issuer.rotateKey(); // two published keys before the first fetch
      expect(several.issuer.kids).toHaveLength(2);
      expectRefusal(
        await several.get('/orders', `Bearer ${several.mint({}, { kid: undefined })}`),
        invalidToken('token has no key id and several keys could match', 'ambiguous_key'),
        several,
      );
    } finally {
      await several.close();
    }
  });
});

describe('crit and b64', () => {
  const t = useTarget();
  const forge = useForge();
  const forged = useTarget(() => ({ bearer: forge.options }));

  it('crit naming an unknown extension → 401 unsupported_token', async () => {
    expectRefusal(await t.bearer(t.mint({}, { crit: ['urn:attacker:trust-me'], 'urn:attacker:trust-me': true })), UNSUPPORTED, t);
  });

  it('crit naming a registered JWT claim (exp) → 401 unsupported_token', async () => {
    expectRefusal(await t.bearer(t.mint({}, { crit: ['exp'], exp: 0 })), UNSUPPORTED, t);
  });

  it.each([
    ['empty', []],
    ['a string, not a list', 'b64'],
    ['a list with an empty name', ['']],
  ])('crit %s → 401 malformed_token', async (_case, crit) => {
    expectRefusal(await t.bearer(t.mint({}, { crit })), MALFORMED, t);
  });

  it('b64: false declared critical (RFC 7797; JWTs must not use it) → 401 malformed_token', async () => {
    expectRefusal(await t.bearer(t.mint({}, { b64: false, crit: ['b64'] })), MALFORMED, t);
  });

  it('b64: false with the payload really unencoded in the token → 400: JSON is not a b64token', async () => {
    const header = b64url(forge.header(',"b64":false,"crit":["b64"]'));
    const payload = forge.claims(',"scope":"orders.read"');
    const res = await forged.get('/orders', `Bearer ${header}.${payload}.${forge.signature(`${header}.${payload}`)}`);
    expectRefusal(
      res,
      { status: 400, error: 'invalid_request', description: 'malformed Authorization header', reason: 'malformed_request' },
      forged,
    );
  });

  it('b64: false without crit, signed over the unencoded payload → 401 bad_signature (never read unencoded)', async () => {
    const header = b64url(forge.header(',"b64":false'));
    const claims = forge.claims(',"scope":"orders.read"');
    const token = `${header}.${b64url(claims)}.${forge.signature(`${header}.${claims}`)}`;
    expectRefusal(await forged.get('/orders', `Bearer ${token}`), BAD_SIGNATURE, forged);
  });
});
