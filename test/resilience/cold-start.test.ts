/**
 * A cold cache: the first requests after boot. One fetch for any burst; when the JWKS (or the
 * discovery document) misbehaves, 503 with Retry-After within the fetch timeout, a back-off
 * instead of a fetch per request, and recovery without a restart.
 */
import { describe, expect, it } from 'vitest';
import type { Fault } from 'cyberark-bearer/testing';
import { FAULTS } from '../support/faults.js';
import { perTest, statusCounts } from './harness.js';

const { start, fakeClock } = perTest();

const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'signing keys unavailable, try again later' };

describe('cold start', () => {
  it('200 concurrent requests on a cold cache → all 200, exactly 1 JWKS fetch', async () => {
    const g = await start();
    const token = g.issuer.mint();
    const results = await Promise.all(Array.from({ length: 200 }, () => g.call(token)));
    expect(statusCounts(results)).toEqual({ 200: 200 });
    expect(g.issuer.jwksFetches).toBe(1);
  });

  it('200 concurrent requests while the JWKS answers slowly (within the timeout) → all 200, 1 fetch', async () => {
    const g = await start({ keyCache: { timeout: 3 } });
    g.issuer.setFault('jwks', 'slow', { delayMs: 300 });
    const token = g.issuer.mint();
    const results = await Promise.all(Array.from({ length: 200 }, () => g.call(token)));
    expect(statusCounts(results)).toEqual({ 200: 200 });
    expect(g.issuer.jwksFetches).toBe(1);
  });

  // With no keys to fall back on, an answer slower than the timeout is one more fault.
  const COLD_FAULTS: Array<[Fault, string]> = [...FAULTS, ['slow', 'timeout']];

  it.each(COLD_FAULTS)(
    'JWKS %s on a cold cache → 503 + Retry-After within the fetch timeout, 1 fetch, logged at error (%s)',
    async (fault, kind) => {
      const timeout = 0.5;
      const g = await start({ keyCache: { timeout, cooldown: 5 } });
      g.issuer.setFault('jwks', fault, { delayMs: 5_000 });
      const token = g.issuer.mint();
      const started = performance.now();
      const results = await Promise.all(Array.from({ length: 10 }, () => g.call(token)));
      const elapsed = performance.now() - started;
      expect(statusCounts(results)).toEqual({ 503: 10 });
      for (const res of results) {
        expect(res.body).toEqual(UNAVAILABLE);
        expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
        expect(Number(res.headers['retry-after'])).toBeLessThanOrEqual(5);
        expect(res.headers['www-authenticate']).toBeUndefined();
        expect(res.headers['cache-control']).toBe('no-store');
      }
      expect(elapsed).toBeLessThan(timeout * 1000 + 2_500); // nobody waits much past the fetch timeout
      expect(g.issuer.jwksFetches).toBe(1);
      expect(g.logged('signing keys fetch failed')).toEqual([
        expect.objectContaining({ level: 50, reason: kind, url: g.issuer.jwksUri, failures: 1, servingStaleKeys: false }),
      ]);
      // Within the back-off, further requests are answered at once, without a fetch.
      await g.call(token).expect(503);
      expect(g.issuer.jwksFetches).toBe(1);
    },
  );

  it('a cold outage backs off (1 s, doubling up to the cooldown) and recovers without a restart', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { cooldown: 5, timeout: 1 } });
    g.issuer.setFault('jwks', 'error');
    const token = g.issuer.mint();
    expect(statusCounts(await Promise.all(Array.from({ length: 20 }, () => g.call(token))))).toEqual({ 503: 20 });
    expect(g.issuer.jwksFetches).toBe(1);
    const backoffs: number[] = [];
    for (let i = 0; i < 4; i++) {
      const res = await g.call(token).expect(503);
      backoffs.push(Number(res.headers['retry-after']));
      clock.advance(Number(res.headers['retry-after']));
      await g.call(token).expect(503); // the retry, which fails again
    }
    expect(g.issuer.jwksFetches).toBe(5);
    expect(backoffs).toEqual([1, 2, 4, 5]); // capped by the cooldown
    g.issuer.setFault('jwks', null);
    clock.advance(5);
    await g.call(token).expect(200);
    expect(g.issuer.jwksFetches).toBe(6);
    expect(g.logged('signing keys recovered')).toEqual([expect.objectContaining({ level: 40, failedFetches: 5 })]);
  });

  it('discovery down on a cold start → 503 + Retry-After, no JWKS fetch; recovers after the back-off', async () => {
    const clock = fakeClock();
    const g = await start({
      tenantUrl: undefined,
      appId: undefined,
      jwksUri: undefined,
      keyCache: { cooldown: 5, timeout: 0.5 },
    });
    expect(g.auth.config.jwksUri).toBeUndefined();
    g.issuer.setFault('discovery', 'error');
    const token = g.issuer.mint();
    const res = await g.call(token).expect(503);
    expect(res.body).toEqual(UNAVAILABLE);
    expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(g.issuer.discoveryFetches).toBe(1);
    expect(g.issuer.jwksFetches).toBe(0);
    expect(g.logged('issuer discovery failed')).toEqual([
      expect.objectContaining({ level: 50, reason: 'http_status', status: 500 }),
    ]);
    await g.call(token).expect(503); // within the back-off: no new attempt
    expect(g.issuer.discoveryFetches).toBe(1);
    g.issuer.setFault('discovery', null);
    clock.advance(1.1);
    await g.call(token).expect(200);
    expect([g.issuer.discoveryFetches, g.issuer.jwksFetches]).toEqual([2, 1]);
  });

  it('discovery hanging → 503 within the fetch timeout', async () => {
    const g = await start({ tenantUrl: undefined, appId: undefined, jwksUri: undefined, keyCache: { timeout: 0.3 } });
    g.issuer.setFault('discovery', 'hang');
    const started = performance.now();
    await g.call(g.issuer.mint()).expect(503);
    expect(performance.now() - started).toBeLessThan(300 + 2_500);
    expect(g.logged('issuer discovery failed')).toEqual([expect.objectContaining({ reason: 'timeout' })]);
  });

  it('ready() at boot surfaces the outage as KeysFetchError naming the URL; requests get 503, not 500', async () => {
    const g = await start({ keyCache: { timeout: 0.3 } });
    g.issuer.setFault('jwks', 'garbage');
    await expect(g.auth.ready()).rejects.toThrow(`cannot fetch signing keys from ${g.issuer.jwksUri}: response is not JSON`);
    expect(g.auth.status()[g.issuer.issuer]).toMatchObject({ usable: false, consecutiveFailures: 1 });
    await g.call(g.issuer.mint()).expect(503);
  });
});
