/**
 * A flood of tokens with random unknown `kid`s (an attacker trying to make us hammer the
 * tenant): all 401, at most one JWKS fetch per cooldown, and a genuinely rotated key is still
 * picked up after the cooldown without a restart.
 */
import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { perTest, statusCounts, type Guarded } from './harness.js';

const { start, fakeClock } = perTest();

const randomKid = () => randomBytes(12).toString('base64url');

/**
 * `count` requests, 100 at a time, each with a fresh random kid. The key is looked up before the
 * signature is checked, so one signed token with its header swapped stands for an attacker's
 * (who has no key anyway) and spares an RSA signature per request.
 */
async function flood(g: Guarded, count: number): Promise<Record<number, number>> {
  const [, payload, signature] = g.issuer.mint().split('.');
  const withKid = (kid: string) =>
    `${Buffer.from(JSON.stringify({ alg: 'RS256', kid, typ: 'JWT' })).toString('base64url')}.${payload}.${signature}`;
  const results = [];
  for (let batch = 0; batch < count / 100; batch++) {
    results.push(...(await Promise.all(Array.from({ length: 100 }, () => g.call(withKid(randomKid()))))));
  }
  return statusCounts(results);
}

describe('unknown kids', () => {
  it('1 000 requests with random kids within one cooldown (30 s default) → all 401, no fetch beyond the first', async () => {
    const g = await start();
    await g.call(g.issuer.mint()).expect(200);
    expect(g.issuer.jwksFetches).toBe(1);
    expect(await flood(g, 1_000)).toEqual({ 401: 1_000 });
    expect(g.issuer.jwksFetches).toBe(1);
    const refusals = g.logged('bearer token refused');
    expect(refusals).toHaveLength(1_000);
    expect(refusals.every((l) => l.reason === 'unknown_key')).toBe(true);
  });

  it('a flood spread over four cooldowns → exactly one fetch per cooldown; a rotated key is picked up after it', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { cooldown: 5 } });
    await g.call(g.issuer.mint()).expect(200);
    for (let window = 1; window <= 4; window++) {
      clock.advance(5);
      expect(await flood(g, 200)).toEqual({ 401: 200 });
      expect(g.issuer.jwksFetches).toBe(1 + window);
    }

    const rotated = g.issuer.rotateKey();
    const token = g.issuer.mint();
    expect(g.issuer.kid).toBe(rotated);
    const early = await g.call(token).expect(401); // within the cooldown of the last flood's fetch
    expect(early.body.error_description).toBe('token signed by an unknown key');
    expect(g.issuer.jwksFetches).toBe(5);
    clock.advance(5);
    await g.call(token).expect(200);
    expect(g.issuer.jwksFetches).toBe(6);
    expect(await flood(g, 100)).toEqual({ 401: 100 }); // right after a fetch: the next flood costs nothing
    expect(g.issuer.jwksFetches).toBe(6);
    expect(g.auth.status()[g.issuer.issuer]!.kids).toEqual(expect.arrayContaining([rotated]));
  });
});
