/**
 * Random tokens must not become a flood at the tenant: 10 000 never-seen opaque tokens while 100
 * valid clients keep calling, calls in flight capped, and room kept for the clients already known.
 * The clock is fake (Date only), so the token bucket refills exactly when a test says.
 */
import { describe, expect, it } from 'vitest';
import { sleep } from '../support/time.js';
import { statusCounts } from '../resilience/harness.js';
import { opaqueOnly, perTest, randomOpaque, type IntrospectedApi } from './harness.js';

const { start, fakeClock } = perTest();
const BUCKET = 20;

/** Runs `tasks` `concurrency` at a time, in order; resolves with their results in order. */
async function pool<T>(tasks: ReadonlyArray<() => Promise<T>>, concurrency: number): Promise<T[]> {
  const results = new Array<T>(tasks.length);
  let next = 0;
  const worker = async () => {
    while (next < tasks.length) {
      const i = next++;
      results[i] = await tasks[i]!();
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return results;
}

/** Waits until the issuer holds `count` introspection calls (a counter it keeps, not a guess at timing). */
async function untilInFlight(api: IntrospectedApi, count: number): Promise<void> {
  while (api.issuer.introspectionsInFlight < count) await sleep(5);
}

describe('a flood of random opaque tokens', () => {
  it('costs the tenant at most newTokensPerSecond calls per second while 100 cached clients get only 200s', async () => {
    const api = await start(opaqueOnly({ newTokensPerSecond: BUCKET }));
    const clock = fakeClock();
    // 100 clients, introspected once each: 10 at a time (within the calls in flight new tokens may
    // hold, 12 of 16), and half a (fake) second apart, which refills 10 calls.
    const clients = Array.from({ length: 100 }, (_, i) => api.opaque({ jti: `client-${i}` }));
    for (let i = 0; i < clients.length; i += 10) {
      const batch = await Promise.all(clients.slice(i, i + 10).map((token) => api.call('/orders', token)));
      expect(statusCounts(batch)).toEqual({ 200: 10 });
      clock.advance(0.5);
    }
    api.issuer.resetCounters();

    // 10 000 random tokens and 2 000 calls of the clients, interleaved, 64 at a time; the clock stands still.
    const flood = Array.from({ length: 10_000 }, randomOpaque);
    const tasks = flood.flatMap((token, i) => {
      const attack = () => api.hit(token).then((r) => ({ kind: 'flood', token, ...r }));
      if (i % 5 !== 0) return [attack];
      const client = clients[(i / 5) % clients.length]!;
      return [attack, () => api.hit(client).then((r) => ({ kind: 'client', token: client, ...r }))];
    });
    const results = await pool(tasks, 64);

    const floodResults = results.filter((r) => r.kind === 'flood');
    const clientResults = results.filter((r) => r.kind === 'client');
    expect(clientResults).toHaveLength(2000);
    expect(statusCounts(clientResults)).toEqual({ 200: 2000 });
    expect(api.issuer.introspections).toBe(BUCKET);
    expect(statusCounts(floodResults)).toEqual({ 401: BUCKET, 503: 10_000 - BUCKET });
    const retryAfter = new Set(floodResults.filter((r) => r.status === 503).map((r) => r.retryAfter));
    expect(retryAfter).toEqual(new Set(['1']));
    expect(api.logged('bearer token refused').filter((l) => l.reason === 'introspection_busy')).toHaveLength(10_000 - BUCKET);

    // A refused token repeated costs no call; one second later, BUCKET more calls for new ones.
    clock.advance(1);
    const refused = floodResults.filter((r) => r.status === 401).map((r) => r.token);
    const turnedAway = floodResults
      .filter((r) => r.status === 503)
      .slice(0, 2 * BUCKET)
      .map((r) => r.token);
    expect(
      statusCounts(
        await pool(
          refused.map((token) => () => api.hit(token)),
          8,
        ),
      ),
    ).toEqual({ 401: BUCKET });
    expect(api.issuer.introspections).toBe(BUCKET);
    expect(
      statusCounts(
        await pool(
          turnedAway.map((token) => () => api.hit(token)),
          8,
        ),
      ),
    ).toEqual({ 401: BUCKET, 503: BUCKET });
    expect(api.issuer.introspections).toBe(2 * BUCKET);
  }, 60_000);
});

describe('calls in flight', () => {
  it('are capped at maxConcurrent, a quarter kept for tokens seen before', async () => {
    const api = await start(opaqueOnly({ maxConcurrent: 4, cacheTtl: 10 }));
    const clock = fakeClock();
    const known = api.opaque({ jti: 'known' });
    expect((await api.call('/orders', known)).status).toBe(200);
    clock.advance(10); // its answer is no longer relied on: the next request asks again

    api.issuer.setFault('introspect', 'slow', { delayMs: 400 });
    const fresh = Array.from({ length: 3 }, (_, i) => api.call('/orders', api.opaque({ jti: `new-${i}` })));
    await untilInFlight(api, 3);
    // New tokens have 3 of the 4 slots: a fourth waits for nothing, it gets 503 at once.
    const refused = await api.call('/orders', api.opaque({ jti: 'new-3' }));
    expect(refused.status).toBe(503);
    expect(refused.body).toEqual({
      error: 'temporarily_unavailable',
      error_description: 'too many tokens to introspect, try again later',
    });
    expect(refused.headers.get('retry-after')).toBe('1');
    // The known token's refresh takes the slot kept free.
    const refresh = api.call('/orders', known);
    await untilInFlight(api, 4);
    expect((await api.call('/orders', api.opaque({ jti: 'new-4' }))).status).toBe(503);
    expect((await refresh).status).toBe(200);
    expect(statusCounts(await Promise.all(fresh))).toEqual({ 200: 3 });
    expect(api.issuer.maxIntrospectionsInFlight).toBe(4);
  });

  it('never exceed maxConcurrent under a burst of distinct valid tokens', async () => {
    const api = await start(opaqueOnly({ maxConcurrent: 8 }));
    api.issuer.setFault('introspect', 'slow', { delayMs: 300 });
    const tokens = Array.from({ length: 60 }, (_, i) => api.opaque({ jti: `burst-${i}` }));
    const results = await Promise.all(tokens.map((token) => api.call('/orders', token)));
    expect(api.issuer.maxIntrospectionsInFlight).toBe(6); // 8 less the quarter kept for known tokens
    expect(statusCounts(results)).toEqual({ 200: 6, 503: 54 });
  });
});
