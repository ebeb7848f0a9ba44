/**
 * Admission to the verified-token cache: a token enters on its first verification while the
 * cache has room, so a new process pays one signature check per client, not two; only when it
 * would push out a live entry must it be seen twice, so a flood of one-shot tokens evicts no
 * steady client. A cached answer is the very same frozen object, which is what these tests see.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, type AuthInfo, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer } from 'cyberark-bearer/testing';
import { startedForEachTest } from './support/lifecycle.js';
import { silent } from './support/logger.js';

const issuer = startedForEachTest(
  () => createTestIssuer({ appId: 'admission-app', audience: 'admission-api' }),
  (started) => started.close(),
);
afterEach(() => vi.useRealTimers());

const make = (options: Partial<BearerAuthOptions> = {}) => createBearerAuth({ ...issuer.options, logger: silent, ...options });
const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('verified-token cache admission', () => {
  it('admits a token on its first verification while the cache has room', async () => {
    const auth = make();
    const tokens = Array.from({ length: 20 }, (_, i) => issuer.mint({ jti: `client-${i}` }));
    const first = await Promise.all(tokens.map((t) => auth.verify(t)));
    const second = await Promise.all(tokens.map((t) => auth.verify(t)));
    second.forEach((cached, i) => expect(cached).toBe(first[i]));
  });

  it("answers a client's second request from the cache on a server that just started", async () => {
    const auth = make();
    const seen: AuthInfo[] = [];
    const app = express();
    app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
      seen.push(req.auth);
      res.json({});
    });
    const token = issuer.mint({ scope: 'orders.read' });
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
    expect(seen[1]).toBe(seen[0]);
    expect(Object.isFrozen(seen[1])).toBe(true);
  });

  it('keeps the steady clients when a full cache sees a flood of one-shot tokens', async () => {
    const auth = make({ tokenCache: { max: 4 } });
    const steady = Array.from({ length: 4 }, (_, i) => issuer.mint({ jti: `steady-${i}` }));
    const cached = [];
    for (const t of steady) cached.push(await auth.verify(t));
    for (let i = 0; i < 40; i++) await auth.verify(issuer.mint({ jti: `flood-${i}` }));
    for (const [i, t] of steady.entries()) expect(await auth.verify(t)).toBe(cached[i]);
  });

  it('admits a token seen twice when the cache is full, evicting the least recently used', async () => {
    const auth = make({ tokenCache: { max: 2 } });
    const [t1, t2, t3] = [1, 2, 3].map((i) => issuer.mint({ jti: `t${i}` }));
    const a1 = await auth.verify(t1!);
    const a2 = await auth.verify(t2!);
    const once = await auth.verify(t3!);
    const twice = await auth.verify(t3!);
    expect(twice).not.toBe(once);
    expect(await auth.verify(t3!)).toBe(twice);
    expect(await auth.verify(t2!)).toBe(a2);
    expect(await auth.verify(t1!)).not.toBe(a1);
  });

  it('admits a token seen twice into a cache of one entry', async () => {
    const auth = make({ tokenCache: { max: 1 } });
    const [held, next] = ['held', 'next'].map((jti) => issuer.mint({ jti }));
    await auth.verify(held!);
    const once = await auth.verify(next!);
    const twice = await auth.verify(next!);
    expect(twice).not.toBe(once);
    expect(await auth.verify(next!)).toBe(twice);
  });

  it('admits a token on first sight when the entry it evicts has lapsed', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ tokenCache: { max: 2 } });
    const shortLived = issuer.mint({ jti: 'short', exp: nowSeconds() + 60 });
    const longLived = issuer.mint({ jti: 'long', exp: nowSeconds() + 3600 });
    await auth.verify(shortLived);
    const kept = await auth.verify(longLived);
    vi.setSystemTime(Date.now() + 61_000);
    const next = issuer.mint({ jti: 'next' });
    const first = await auth.verify(next);
    expect(await auth.verify(next)).toBe(first);
    expect(await auth.verify(longLived)).toBe(kept);
  });
});
