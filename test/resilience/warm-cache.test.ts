/**
 * Keys already cached when the JWKS starts to misbehave: valid tokens keep passing through the
 * stale-if-error window, then 503; the outage and the recovery are logged. Also the refreshes of
 * a healthy cache: ahead of expiry, Cache-Control, and a key removed from the JWKS.
 * Time moves by fake Date; fetch timeouts stay real and short.
 */
import { describe, expect, it, vi } from 'vitest';
import { FAULTS } from '../support/faults.js';
import { perTest, statusCounts } from './harness.js';

const { start, fakeClock } = perTest();

describe('an outage with keys cached (maxAge 60 s, staleIfError 600 s, cooldown 5 s)', () => {
  it.each(FAULTS)(
    'JWKS %s: valid tokens pass through the stale window, then 503; outage at error, recovery at warn (%s)',
    async (fault, kind) => {
      const clock = fakeClock();
      const g = await start({ keyCache: { maxAge: 60, staleIfError: 600, cooldown: 5, timeout: 0.3 } });
      const token = g.issuer.mint(); // valid for an hour of fake time
      await g.call(token).expect(200);
      expect(g.issuer.jwksFetches).toBe(1);

      g.issuer.setFault('jwks', fault);
      clock.advance(61); // the keys expire: the refresh fails, the stale keys serve everyone
      const during = await Promise.all(Array.from({ length: 50 }, () => g.call(token)));
      expect(statusCounts(during)).toEqual({ 200: 50 });
      expect(g.issuer.jwksFetches).toBe(2); // one refresh shared by the 50
      expect(g.logged('signing keys fetch failed')).toEqual([
        expect.objectContaining({ level: 50, reason: kind, servingStaleKeys: true, failures: 1 }),
      ]);

      clock.advance(300); // deep in the window: still 200, retried in the background after the back-off
      await g.call(token).expect(200);
      await vi.waitFor(() => expect(g.logged('signing keys fetch failed')).toHaveLength(2));
      expect(g.issuer.jwksFetches).toBe(3);

      clock.advance(300); // past maxAge + staleIfError: the stale keys are no longer used
      const refused = await g.call(token).expect(503);
      expect(refused.body).toEqual({
        error: 'temporarily_unavailable',
        error_description: 'signing keys unavailable, try again later',
      });
      expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(g.logged('signing keys fetch failed').at(-1)).toMatchObject({ level: 50, servingStaleKeys: false });
      expect(g.auth.status()[g.issuer.issuer]).toMatchObject({ usable: false });

      g.issuer.setFault('jwks', null);
      clock.advance(5); // past the back-off
      await g.call(token).expect(200);
      const recovered = g.logged('signing keys recovered');
      expect(recovered).toEqual([expect.objectContaining({ level: 40, url: g.issuer.jwksUri, kids: [g.issuer.kid] })]);
      expect(recovered[0]!.outageMs).toBeGreaterThanOrEqual(600_000);
      expect(recovered[0]!.failedFetches).toBe(g.issuer.jwksFetches - 2);
    },
  );

  it('an unknown kid during the outage → 503 (it may be a rotation we cannot see), known kids still 200', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { maxAge: 60, staleIfError: 600, cooldown: 1 } });
    const token = g.issuer.mint();
    await g.call(token).expect(200);
    g.issuer.setFault('jwks', 'down');
    clock.advance(61);
    await g.call(token).expect(200);
    await g.call(g.issuer.mint({}, { kid: 'rotated-maybe' })).expect(503);
    await g.call(token).expect(200);
  });
});

describe('a healthy cache', () => {
  it('refreshes ahead of expiry in the background: the request does not wait on a slow JWKS', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { maxAge: 10, cooldown: 1, timeout: 5 } });
    const token = g.issuer.mint();
    await g.call(token).expect(200);
    clock.advance(8.5); // past 80 % of the lifetime
    g.issuer.setFault('jwks', 'slow', { delayMs: 1_500 });
    const started = performance.now(); // Date is fake; performance.now() is not
    await g.call(token).expect(200);
    expect(performance.now() - started).toBeLessThan(1_000);
    await vi.waitFor(() => expect(g.issuer.jwksFetches).toBe(2));
  });

  it('honours a shorter Cache-Control max-age from the JWKS server', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { maxAge: 600, cooldown: 1 } });
    g.issuer.setJwksCacheControl('public, max-age=30');
    const token = g.issuer.mint();
    await g.call(token).expect(200);
    clock.advance(20);
    await g.call(token).expect(200);
    expect(g.issuer.jwksFetches).toBe(1);
    clock.advance(11);
    await g.call(token).expect(200);
    expect(g.issuer.jwksFetches).toBe(2);
  });

  it('a key removed from the JWKS: its tokens pass until the next refresh, then 401 unknown_key', async () => {
    const clock = fakeClock();
    const g = await start({ keyCache: { maxAge: 60, cooldown: 5 } });
    const old = g.issuer.mint();
    await g.call(old).expect(200);
    const oldKid = g.issuer.kid;
    g.issuer.rotateKey({ keepPrevious: false });
    expect(g.issuer.kids).not.toContain(oldKid);
    clock.advance(30);
    await g.call(old).expect(200); // still cached: local validation cannot see the removal yet
    clock.advance(31); // past maxAge: refreshed
    const res = await g.call(old).expect(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'token signed by an unknown key' });
    await g.call(g.issuer.mint()).expect(200);
    expect(g.issuer.jwksFetches).toBe(2);
  });
});
