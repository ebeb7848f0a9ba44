/**
 * Attacks on the algorithm: unsigned tokens, HMAC keyed with the public key, algorithms outside
 * the allow-list, and an algorithm that does not match the key's JWK `alg`.
 */
import { createPublicKey, generateKeyPairSync, type JsonWebKey } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { expectRefusal, invalidToken, useTarget } from './harness.js';

const NOT_ALLOWED = invalidToken('token algorithm not allowed', 'algorithm_not_allowed');
const MISMATCH = invalidToken('token algorithm does not match its key', 'key_mismatch');

describe('algorithm attacks (default allow-list: RS256)', () => {
  const t = useTarget();
  let publicJwk: JsonWebKey;
  beforeAll(() => {
    publicJwk = t.issuer.jwks().keys[0]!;
  });

  const publicKey = () => createPublicKey({ key: publicJwk, format: 'jwk' });

  it('the control: a valid RS256 token passes', async () => {
    await t.bearer(t.mint()).expect(200);
  });

  it.each(['none', 'None', 'NONE', 'nOnE'])('alg "%s" with an empty signature → 401 algorithm_not_allowed', async (alg) => {
    const token = t.mint({}, { alg });
    expect(token.endsWith('.')).toBe(true);
    expectRefusal(await t.bearer(token), NOT_ALLOWED, t);
  });

  it('alg "none" keeping a genuine RS256 signature → 401 algorithm_not_allowed', async () => {
    const signature = t.mint().split('.')[2];
    const [header, payload] = t.mint({}, { alg: 'none' }).split('.');
    expectRefusal(await t.bearer(`${header}.${payload}.${signature}`), NOT_ALLOWED, t);
  });

  it('HS256 keyed with the RSA public key in PEM (key confusion) → 401 algorithm_not_allowed', async () => {
    const pem = publicKey().export({ type: 'spki', format: 'pem' }) as string;
    expectRefusal(await t.bearer(t.mint({}, { alg: 'HS256' }, { key: pem })), NOT_ALLOWED, t);
  });

  it('HS256 keyed with the RSA public key in PKCS#1 PEM → 401 algorithm_not_allowed', async () => {
    const pem = publicKey().export({ type: 'pkcs1', format: 'pem' }) as string;
    expectRefusal(await t.bearer(t.mint({}, { alg: 'HS256' }, { key: pem })), NOT_ALLOWED, t);
  });

  it('HS256 keyed with the published JWK (its JSON text) → 401 algorithm_not_allowed', async () => {
    expectRefusal(await t.bearer(t.mint({}, { alg: 'HS256' }, { key: JSON.stringify(publicJwk) })), NOT_ALLOWED, t);
  });

  it('HS256 keyed with the JWK modulus bytes → 401 algorithm_not_allowed', async () => {
    const n = Buffer.from(publicJwk.n!, 'base64url');
    expectRefusal(await t.bearer(t.mint({}, { alg: 'HS256' }, { key: n })), NOT_ALLOWED, t);
  });

  it.each(['HS384', 'HS512'])('%s keyed with the public key PEM → 401 algorithm_not_allowed', async (alg) => {
    const pem = publicKey().export({ type: 'spki', format: 'pem' }) as string;
    expectRefusal(await t.bearer(t.mint({}, { alg }, { key: pem })), NOT_ALLOWED, t);
  });

  it.each(['RS384', 'RS512', 'PS256', 'PS512'])(
    '%s genuinely signed with the tenant key under its kid → 401 algorithm_not_allowed',
    async (alg) => {
      expectRefusal(await t.bearer(t.mint({}, { alg })), NOT_ALLOWED, t);
    },
  );

  it('ES256 signed with an attacker EC key under the tenant kid → 401 algorithm_not_allowed', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectRefusal(await t.bearer(t.mint({}, { alg: 'ES256' }, { key: privateKey })), NOT_ALLOWED, t);
  });

  it('EdDSA signed with an attacker Ed25519 key under the tenant kid → 401 algorithm_not_allowed', async () => {
    const { privateKey } = generateKeyPairSync('ed25519');
    expectRefusal(await t.bearer(t.mint({}, { alg: 'EdDSA' }, { key: privateKey })), NOT_ALLOWED, t);
  });

  it('an alg that is not a string (["RS256"]) → 401 malformed_token', async () => {
    expectRefusal(await t.bearer(t.mint({}, { alg: ['RS256'] })), invalidToken('malformed token', 'malformed_token'), t);
  });
});

describe('alg not matching the JWK (allow-list RS256, RS384, PS256, ES256; the JWK says RS256)', () => {
  const t = useTarget({ bearer: { algorithms: ['RS256', 'RS384', 'PS256', 'ES256'] } });

  it('the control: RS256 under the same kid passes', async () => {
    expect(t.issuer.jwks().keys[0]).toMatchObject({ kty: 'RSA', alg: 'RS256', kid: t.issuer.kid });
    await t.bearer(t.mint()).expect(200);
  });

  it('RS384 genuinely signed with the RS256 key → 401 key_mismatch', async () => {
    expectRefusal(await t.bearer(t.mint({}, { alg: 'RS384' })), MISMATCH, t);
  });

  it('PS256 genuinely signed with the RS256 key → 401 key_mismatch', async () => {
    expectRefusal(await t.bearer(t.mint({}, { alg: 'PS256' })), MISMATCH, t);
  });

  it("ES256 signed with an attacker EC key under the RSA key's kid → 401 key_mismatch", async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    expectRefusal(await t.bearer(t.mint({}, { alg: 'ES256' }, { key: privateKey })), MISMATCH, t);
  });
});
