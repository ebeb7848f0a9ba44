/**
 * TokenVerifier on its own, as the next features (several issuers, introspection) will use it:
 * handed its issuers, their audiences and a key source each, with nothing built from a config.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { InvalidTokenError, KeysUnavailableError } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import type { RemoteSettings } from '../src/jwks/fetch-policy.js';
import { KeySet, type PublicKeyEntry } from '../src/jwks/key-set.js';
import { RemoteKeySet, type KeySource, type KeySourceStatus } from '../src/jwks/remote.js';
import { TokenVerifier, type IssuerRule, type VerifierOptions } from '../src/jwt/verify.js';
import { silent } from './support/logger.js';

const settings: RemoteSettings = {
  algorithms: ['RS256'],
  keyCache: { maxAge: 600, cooldown: 30, timeout: 5, staleIfError: 3600, maxBytes: 256 * 1024 },
  allowInsecureHttp: false,
};

function verifier(issuers: readonly IssuerRule[], options: Partial<VerifierOptions> = {}): TokenVerifier {
  return new TokenVerifier({
    issuers,
    algorithms: ['RS256'],
    clockTolerance: 30,
    maxTokenAge: undefined,
    strict: false,
    scopeClaims: ['scope', 'scp'],
    maxTokenLength: 16384,
    tokenCache: { max: 100 },
    logger: silent,
    ...options,
  });
}

/** A key source over a JWKS document held in memory: what a caller may inject instead of a URL. */
function fixedKeys(document: unknown): KeySource & { asked: number } {
  const parsed = KeySet.parse(document, ['RS256']);
  if (!parsed.ok) throw new Error(parsed.problem);
  const { set } = parsed;
  return {
    asked: 0,
    usableSet() {
      this.asked++;
      return set;
    },
    getKey(kid: unknown, alg: string): Promise<PublicKeyEntry> {
      this.asked++;
      const found = set.select(kid, alg);
      return typeof found === 'string' ? Promise.reject(new InvalidTokenError(found)) : Promise.resolve(found);
    },
    ready: () => Promise.resolve(),
    status: (): KeySourceStatus => ({
      url: undefined,
      usable: true,
      kids: set.kids,
      age: 0,
      fetches: 0,
      consecutiveFailures: 0,
      lastFailure: undefined,
    }),
  };
}

let orders: TestIssuer;
let billing: TestIssuer;
beforeAll(async () => {
  orders = await createTestIssuer({ appId: 'orders-app', audience: 'orders-api' });
  billing = await createTestIssuer({ appId: 'billing-app', audience: 'billing-api' });
});
afterAll(async () => {
  await orders.close();
  await billing.close();
});

describe('TokenVerifier with injected key sources', () => {
  it("verifies the test kit's tokens with a RemoteKeySet over its JWKS URL, and reports that source", async () => {
    const keys = new RemoteKeySet(orders.jwksUri, settings, silent);
    const v = verifier([{ issuer: orders.issuer, audiences: ['orders-api'], keys }]);
    const auth = await v.verify(orders.mint({ scope: 'orders.read orders.write' }));
    expect(auth.scopes).toEqual(['orders.read', 'orders.write']);
    expect(auth.claims.iss).toBe(orders.issuer);
    expect(Object.keys(v.status())).toEqual([orders.issuer]);
    expect(v.status()[orders.issuer]).toMatchObject({ url: orders.jwksUri, usable: true, kids: [orders.kid] });
    await expect(v.verify(orders.mint({ aud: 'billing-api' }))).rejects.toMatchObject({ reason: 'unexpected_audience' });
  });

  it('uses the key source it is given, fetching nothing itself', async () => {
    orders.resetCounters();
    const keys = fixedKeys(orders.jwks());
    const v = verifier([{ issuer: orders.issuer, audiences: ['orders-api'], keys }]);
    await v.ready();
    expect((await v.verify(orders.mint())).subject).toBeTypeOf('string');
    expect(keys.asked).toBeGreaterThan(0);
    expect(orders.jwksFetches).toBe(0);
    expect(orders.discoveryFetches).toBe(0);
  });

  it("holds each issuer to its own audiences and keys, routed by the token's exact iss", async () => {
    const v = verifier([
      { issuer: orders.issuer, audiences: ['orders-api'], keys: fixedKeys(orders.jwks()) },
      { issuer: billing.issuer, audiences: ['billing-api'], keys: fixedKeys(billing.jwks()) },
    ]);
    expect((await v.verify(orders.mint())).claims.aud).toBe('orders-api');
    expect((await v.verify(billing.mint())).claims.aud).toBe('billing-api');
    // Each issuer's audience is accepted only from that issuer.
    await expect(v.verify(orders.mint({ aud: 'billing-api' }))).rejects.toMatchObject({ reason: 'unexpected_audience' });
    await expect(v.verify(billing.mint({ aud: 'orders-api' }))).rejects.toMatchObject({ reason: 'unexpected_audience' });
    // A token claiming one issuer but signed by the other's key is checked against the claimed one's keys.
    await expect(v.verify(billing.mint({ iss: orders.issuer, aud: 'orders-api' }))).rejects.toMatchObject({
      reason: 'unknown_key',
    });
    await expect(v.verify(orders.mint({ iss: `${orders.issuer}x` }))).rejects.toMatchObject({ reason: 'unexpected_issuer' });
    expect(Object.keys(v.status())).toEqual([orders.issuer, billing.issuer]);
  });

  it("gives refusals the token's kid, and its sub once the signature held", async () => {
    const v = verifier([{ issuer: orders.issuer, audiences: ['orders-api'], keys: fixedKeys(orders.jwks()) }]);
    const unknown = await v.verify(orders.mint({}, { kid: 'not-published' })).catch((error: unknown) => error);
    expect(unknown).toBeInstanceOf(InvalidTokenError);
    expect(unknown).toMatchObject({ reason: 'unknown_key', kid: 'not-published', subject: undefined });
    const expired = await v.verify(orders.mint({ sub: 'svc-1', exp: 1_000_000 })).catch((error: unknown) => error);
    expect(expired).toMatchObject({ reason: 'token_expired', kid: orders.kid, subject: 'svc-1' });
  });

  it('keeps a key outage a 503, with the Retry-After its key source gave and the kid', async () => {
    const down: KeySource = {
      ...fixedKeys(orders.jwks()),
      // No key set usable now, and none to be had: an outage.
      usableSet: () => undefined,
      getKey: () => Promise.reject(new KeysUnavailableError(7)),
    };
    const v = verifier([{ issuer: orders.issuer, audiences: ['orders-api'], keys: down }]);
    const error = await v.verify(orders.mint()).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(KeysUnavailableError);
    expect(error).toMatchObject({ status: 503, retryAfter: 7, kid: orders.kid });
  });

  it('refuses an issuer listed twice: which of its rules would apply is not clear', () => {
    const keys = fixedKeys(orders.jwks());
    const rule = { issuer: orders.issuer, audiences: ['orders-api'], keys };
    expect(() => verifier([rule, { ...rule, audiences: ['other'] }])).toThrow(/listed twice/);
  });
});

describe('KeySet.parse', () => {
  it('says why a document is not a usable key set instead of throwing', () => {
    const notASet = KeySet.parse({ nope: [] }, ['RS256']);
    expect(notASet.ok || notASet.problem).toMatch(/no "keys" array/);
    const noUsableKey = KeySet.parse({ keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }, ['RS256']);
    expect(noUsableKey.ok || noUsableKey.problem).toMatch(/no usable signing key/);
  });
});
