/**
 * The cache of verified tokens may skip the signature check, never the rules: it stops at
 * `exp`, forgets tokens whose key was withdrawn, is not shared between configurations, caches
 * no failure, and leaves scope checks to every request.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer } from 'cyberark-bearer/testing';
import { guardedApp } from './support/apps.js';
import { startedForEachTest } from './support/lifecycle.js';
import { silent } from './support/logger.js';
import { sleep } from './support/time.js';

const issuer = startedForEachTest(
  () => createTestIssuer({ appId: 'cache-app', audience: 'cache-api' }),
  (started) => started.close(),
);
afterEach(() => vi.useRealTimers());

const make = (options: Partial<BearerAuthOptions> = {}) => createBearerAuth({ ...issuer.options, logger: silent, ...options });

/** Verifies a token until it answers from the cache (see token-cache-admission.test.ts); returns the cached result. */
async function admit(auth: BearerAuth, token: string) {
  await auth.verify(token);
  const cached = await auth.verify(token);
  expect(await auth.verify(token)).toBe(cached);
  return cached;
}
const nowSeconds = () => Math.floor(Date.now() / 1000);

/** A token in the cache of an instance whose keys expire after 0.3 s; then the key rotated, and that time waited out. */
async function cachedThenRotated(keepPrevious: boolean) {
  const auth = make({ keyCache: { maxAge: 0.3, cooldown: 1 } });
  const token = issuer.mint();
  const first = await admit(auth, token);
  issuer.rotateKey({ keepPrevious });
  await sleep(400);
  return { auth, token, first };
}

describe('verified-token cache', () => {
  it('answers a repeated token from the cache (the same frozen object)', async () => {
    const auth = make();
    const token = issuer.mint({ scope: 'a' });
    const first = await admit(auth, token);
    expect(await auth.verify(token)).toBe(first);
    expect(Object.isFrozen(first)).toBe(true);
    expect(Object.isFrozen(first.claims)).toBe(true);
    expect(Object.isFrozen(first.scopes)).toBe(true);
  });

  it('checks a token once for concurrent requests that carry it (a cold-start burst)', async () => {
    const auth = make();
    const token = issuer.mint({ jti: 'burst' });
    const results = await Promise.all(Array.from({ length: 50 }, () => auth.verify(token)));
    expect(new Set(results).size).toBe(1);
    const expired = issuer.mint({ exp: nowSeconds() - 3600 });
    const failures = await Promise.all(Array.from({ length: 20 }, () => auth.verify(expired).catch((e: unknown) => e)));
    expect(new Set(failures).size).toBe(1);
    expect(failures[0]).toMatchObject({ reason: 'token_expired' });
  });

  it('serves only the exact token: a cached signature on an altered payload is refused', async () => {
    const auth = make();
    const token = issuer.mint({ scope: 'orders.read' });
    await admit(auth, token);
    const [header, , signature] = token.split('.');
    const forgedPayload = Buffer.from(
      JSON.stringify({ ...JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()), scope: 'admin' }),
    ).toString('base64url');
    await expect(auth.verify(`${header}.${forgedPayload}.${signature}`)).rejects.toMatchObject({ reason: 'bad_signature' });
    const app = guardedApp(auth.requireToken('admin'));
    await request(app).get('/x').set('Authorization', `Bearer ${header}.${forgedPayload}.${signature}`).expect(401);
  });

  it('never serves a token past its exp, even from the cache', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ clockTolerance: 0 });
    const token = issuer.mint({ exp: nowSeconds() + 60 });
    await admit(auth, token);
    vi.setSystemTime(Date.now() + 59_000);
    await expect(auth.verify(token)).resolves.toBeDefined();
    vi.setSystemTime(Date.now() + 2_000);
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'token_expired' });
  });

  it('serves a cached token until 1 ms before exp and refuses it at exactly exp (clockTolerance: 0)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ clockTolerance: 0 });
    const exp = nowSeconds() + 60;
    const token = issuer.mint({ exp });
    const cached = await admit(auth, token);
    vi.setSystemTime(exp * 1000 - 1);
    expect(await auth.verify(token)).toBe(cached);
    vi.setSystemTime(exp * 1000);
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'token_expired' });
  });

  it('keeps the clock tolerance after exp by verifying again, not by caching longer', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ clockTolerance: 30 });
    const token = issuer.mint({ exp: nowSeconds() + 10 });
    const cached = await admit(auth, token);
    vi.setSystemTime(Date.now() + 20_000); // past exp, within the tolerance
    const again = await auth.verify(token);
    expect(again).not.toBe(cached);
    vi.setSystemTime(Date.now() + 30_000); // past exp + tolerance
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'token_expired' });
  });

  it('never serves a token past iat + maxTokenAge', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ maxTokenAge: 60, clockTolerance: 0 });
    const token = issuer.mint();
    await admit(auth, token);
    vi.setSystemTime(Date.now() + 61_000);
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'token_too_old' });
  });

  it('drops a cached token once its signing key leaves the key set', async () => {
    const { auth, token, first } = await cachedThenRotated(false);
    await expect(auth.verify(token)).rejects.toMatchObject({ status: 401, reason: 'unknown_key' });
    expect(first.header.kid).not.toBe(issuer.kid);
  });

  it('drops a cached token whose key was withdrawn when another request did the refresh', async () => {
    const { auth, token } = await cachedThenRotated(false);
    await auth.verify(issuer.mint()); // a token of the new key refreshes the key set
    await expect(auth.verify(token)).rejects.toMatchObject({ status: 401, reason: 'unknown_key' });
  });

  it('keeps a cached token across a refresh that still publishes its key', async () => {
    const { auth, token, first } = await cachedThenRotated(true);
    await auth.verify(issuer.mint()); // the refresh happens here
    expect(issuer.jwksFetches).toBe(2);
    expect(await auth.verify(token)).toBe(first);
  });

  it('is not shared between configurations', async () => {
    const a = make({ audience: 'cache-api' });
    const b = make({ audience: 'other-api' });
    const token = issuer.mint();
    await admit(a, token);
    await expect(b.verify(token)).rejects.toMatchObject({ reason: 'unexpected_audience' });
    const rs384Only = make({ algorithms: ['RS384'] });
    await expect(rs384Only.verify(token)).rejects.toMatchObject({ reason: 'algorithm_not_allowed' });
    const otherIssuer = make({ issuer: 'https://elsewhere.example/cache-app/' });
    await expect(otherIssuer.verify(token)).rejects.toMatchObject({ reason: 'unexpected_issuer' });
  });

  it('caches no failure: a token refused as not yet valid passes once it is', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const auth = make({ clockTolerance: 0 });
    const token = issuer.mint({ nbf: nowSeconds() + 10 });
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'token_not_yet_valid' });
    vi.setSystemTime(Date.now() + 11_000);
    await expect(auth.verify(token)).resolves.toBeDefined();
  });

  it('checks route scopes on every request, cached or not', async () => {
    const auth = make();
    const app = express();
    app.get('/read', auth.requireToken('orders.read'), (_req, res) => {
      res.json({});
    });
    app.get('/write', auth.requireToken('orders.write'), (_req, res) => {
      res.json({});
    });
    const token = issuer.mint({ scope: 'orders.read' });
    for (let i = 0; i < 3; i++) {
      await request(app).get('/read').set('Authorization', `Bearer ${token}`).expect(200);
      await request(app).get('/write').set('Authorization', `Bearer ${token}`).expect(403);
    }
  });

  it('hands handlers a frozen req.auth, so one request cannot alter what the next sees', async () => {
    const auth = make();
    const app = express();
    app.get('/x', auth.requireToken(), (req, res) => {
      let mutated = true;
      try {
        (req.auth.claims as Record<string, unknown>).sub = 'someone-else';
      } catch {
        mutated = false;
      }
      res.json({ mutated, sub: req.auth.subject });
    });
    const token = issuer.mint({ sub: 'svc-1' });
    for (let i = 0; i < 2; i++) {
      await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(200, { mutated: false, sub: 'svc-1' });
    }
  });

  it('can be turned off, and is bounded by its size', async () => {
    const off = make({ tokenCache: { max: 0 } });
    const token = issuer.mint();
    await off.verify(token);
    const second = await off.verify(token);
    expect(await off.verify(token)).not.toBe(second);

    const tiny = make({ tokenCache: { max: 2 } });
    const [t1, t2, t3] = [issuer.mint({ jti: '1' }), issuer.mint({ jti: '2' }), issuer.mint({ jti: '3' })];
    const first = await admit(tiny, t1);
    await admit(tiny, t2);
    await admit(tiny, t3); // evicts t1, the least recently used
    expect(await tiny.verify(t1)).not.toBe(first);
  });
});
