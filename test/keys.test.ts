/**
 * The signing-key cache against the test kit's issuer: one fetch for a cold burst, a cooldown
 * on unknown kids, stale-if-error during outages, 503 + Retry-After when no key can be had,
 * Cache-Control, discovery and sharing between instances.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, requireToken, KeysFetchError, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { captureLogger, silent, sleep } from './helpers.js';

const issuers: TestIssuer[] = [];
afterEach(async () => {
  await Promise.all(issuers.splice(0).map((i) => i.close()));
});

async function setup(options: Partial<BearerAuthOptions> = {}, issuerOptions: TestIssuerOptions = {}) {
  const issuer = await createTestIssuer(issuerOptions);
  issuers.push(issuer);
  const auth = createBearerAuth({ ...issuer.options, logger: silent, ...options });
  const app = express();
  app.get('/x', auth.requireToken(), (_req, res) => {
    res.json({ ok: true });
  });
  const call = (token: string) => request(app).get('/x').set('Authorization', `Bearer ${token}`);
  return { issuer, auth, app, call };
}

describe('key fetching', () => {
  it('serves a cold burst of 200 concurrent requests with exactly one JWKS fetch', async () => {
    const { issuer, call } = await setup();
    const token = issuer.mint();
    const results = await Promise.all(Array.from({ length: 200 }, () => call(token)));
    expect(results.map((r) => r.status)).toEqual(Array(200).fill(200));
    expect(issuer.jwksFetches).toBe(1);
  });

  it('costs at most one fetch per cooldown for a flood of unknown kids, and picks up a rotated key after it', async () => {
    const { issuer, call } = await setup(); // default cooldown: 30 s
    await call(issuer.mint()).expect(200);
    expect(issuer.jwksFetches).toBe(1);
    const statuses = new Map<number, number>();
    for (let batch = 0; batch < 10; batch++) {
      const results = await Promise.all(
        Array.from({ length: 100 }, () => call(issuer.mint({}, { kid: `attacker-${Math.random().toString(36).slice(2)}` }))),
      );
      for (const r of results) statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
    }
    expect(Object.fromEntries(statuses)).toEqual({ 401: 1000 });
    expect(issuer.jwksFetches).toBe(1); // the flood came within the cooldown of the first fetch

    issuer.rotateKey();
    const rotated = issuer.mint();
    await call(rotated).expect(401); // still within the cooldown: no fetch
    expect(issuer.jwksFetches).toBe(1);
    vi.useFakeTimers({ toFake: ['Date'] });
    try {
      vi.setSystemTime(Date.now() + 31_000);
      await call(rotated).expect(200);
      expect(issuer.jwksFetches).toBe(2);
      await call(issuer.mint({}, { kid: 'another-unknown' })).expect(401);
      expect(issuer.jwksFetches).toBe(2);
    } finally {
      vi.useRealTimers();
    }
  });

  it('says which kid was unknown with invalid_token, not a 5xx', async () => {
    const { issuer, call } = await setup();
    const res = await call(issuer.mint({}, { kid: 'no-such-key' })).expect(401);
    expect(res.body.error_description).toBe('token signed by an unknown key');
  });

  it.each(['down', 'error', 'garbage', 'empty', 'huge'] as const)(
    'answers 503 with Retry-After when the JWKS is %s on a cold cache',
    async (fault) => {
      const { issuer, call } = await setup();
      issuer.setFault('jwks', fault);
      const res = await call(issuer.mint()).expect(503);
      expect(Number(res.headers['retry-after'])).toBeGreaterThanOrEqual(1);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.body).toEqual({ error: 'temporarily_unavailable', error_description: 'signing keys unavailable, try again later' });
    },
  );

  it('answers 503 within the fetch timeout when the JWKS hangs', async () => {
    const { issuer, call } = await setup({ keyCache: { timeout: 0.3 } });
    issuer.setFault('jwks', 'hang');
    const started = Date.now();
    await call(issuer.mint()).expect(503);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it('does not refetch on every request during a cold outage (back-off), and recovers', async () => {
    const { issuer, call } = await setup({ keyCache: { cooldown: 5 } });
    issuer.setFault('jwks', 'error');
    const token = issuer.mint();
    const results = await Promise.all(Array.from({ length: 20 }, () => call(token)));
    expect(new Set(results.map((r) => r.status))).toEqual(new Set([503]));
    expect(issuer.jwksFetches).toBe(1);
    issuer.setFault('jwks', null);
    await sleep(1100); // the first back-off is one second
    await call(token).expect(200);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('keeps serving the last good keys through an outage (stale-if-error), then answers 503', async () => {
    const captured = captureLogger();
    const { issuer, call } = await setup({ logger: captured.logger, keyCache: { maxAge: 0.3, cooldown: 0.1, staleIfError: 1 } });
    const token = issuer.mint();
    await call(token).expect(200);
    issuer.setFault('jwks', 'error');
    await sleep(400); // past maxAge: a refresh is due and fails
    await call(token).expect(200);
    await sleep(200);
    await call(token).expect(200);
    expect(captured.lines.some((l) => l.level === 50 && l.msg === 'signing keys fetch failed' && l.servingStaleKeys === true)).toBe(true);
    await sleep(1000); // past maxAge + staleIfError
    const res = await call(token).expect(503);
    expect(res.headers['retry-after']).toBeDefined();
    issuer.setFault('jwks', null);
    await sleep(300);
    await call(token).expect(200);
    const recovered = captured.lines.find((l) => l.msg === 'signing keys recovered');
    expect(recovered).toMatchObject({ level: 40 });
    expect(recovered?.outageMs).toBeGreaterThan(0);
  });

  it('refreshes ahead of expiry in the background without making the request wait', async () => {
    const { issuer, call } = await setup({ keyCache: { maxAge: 1, cooldown: 0 } });
    const token = issuer.mint();
    await call(token).expect(200);
    await sleep(850); // past 80 % of the lifetime
    issuer.setFault('jwks', 'slow', { delayMs: 1500 });
    const started = Date.now();
    await call(token).expect(200);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('stops trusting a key removed from the JWKS after the next refresh', async () => {
    const { issuer, call } = await setup({ keyCache: { maxAge: 0.3, cooldown: 0 } });
    const old = issuer.mint();
    await call(old).expect(200);
    const oldKid = issuer.kid;
    issuer.rotateKey({ keepPrevious: false });
    expect(issuer.kids).not.toContain(oldKid);
    await sleep(400);
    const res = await call(old).expect(401);
    expect(res.body.error_description).toBe('token signed by an unknown key');
    await call(issuer.mint()).expect(200);
  });

  it('honours a shorter Cache-Control max-age from the JWKS server', async () => {
    const { issuer, call } = await setup({ keyCache: { maxAge: 600, cooldown: 0 } });
    issuer.setJwksCacheControl('public, max-age=1');
    const token = issuer.mint();
    await call(token).expect(200);
    await call(token).expect(200);
    expect(issuer.jwksFetches).toBe(1);
    await sleep(1100);
    await call(token).expect(200);
    expect(issuer.jwksFetches).toBe(2);
  });

  it('answers 503 for an unknown kid while the JWKS is failing', async () => {
    const { issuer, call } = await setup({ keyCache: { maxAge: 0.2, cooldown: 0 } });
    await call(issuer.mint()).expect(200);
    issuer.setFault('jwks', 'down');
    await sleep(300);
    await call(issuer.mint({}, { kid: 'rotated-maybe' })).expect(503);
  });
});

describe('ready()', () => {
  it('fetches the keys at boot so the first request does not wait', async () => {
    const { issuer, auth, call } = await setup();
    await auth.ready();
    expect(issuer.jwksFetches).toBe(1);
    await call(issuer.mint()).expect(200);
    expect(issuer.jwksFetches).toBe(1);
    expect(Object.values(auth.status())[0]).toMatchObject({ usable: true, kids: [issuer.kid], consecutiveFailures: 0 });
  });

  it('throws KeysFetchError naming the URL and the problem when the keys cannot be had', async () => {
    const { issuer, auth } = await setup();
    issuer.setFault('jwks', 'error');
    const failure = auth.ready();
    await expect(failure).rejects.toBeInstanceOf(KeysFetchError);
    await expect(failure).rejects.toThrow(`cannot fetch signing keys from ${issuer.jwksUri}: HTTP 500`);
  });
});

describe('discovery', () => {
  it('finds jwks_uri from the issuer when only issuer and audience are given', async () => {
    const issuer = await createTestIssuer({ appId: 'disco' });
    issuers.push(issuer);
    const auth = createBearerAuth({ issuer: issuer.issuer, audience: 'disco', logger: silent, env: {} });
    const verified = await auth.verify(issuer.mint({ scope: 'a b' }));
    expect(verified.scopes).toEqual(['a', 'b']);
    expect(issuer.discoveryFetches).toBe(1);
    expect(issuer.jwksFetches).toBe(1);
  });

  it('refuses metadata that names another issuer (503, and ready() says why)', async () => {
    const issuer = await createTestIssuer({ appId: 'disco2' });
    issuers.push(issuer);
    // The configured issuer lacks the trailing slash CyberArk puts in tokens and metadata.
    const configured = issuer.issuer.replace(/\/$/, '');
    const auth = createBearerAuth({ issuer: configured, audience: 'disco2', logger: silent, env: {} });
    await expect(auth.ready()).rejects.toThrow(/discovery document names another issuer/);
    await expect(auth.verify(issuer.mint({ iss: configured }))).rejects.toMatchObject({ status: 503 });
    expect(issuer.jwksFetches).toBe(0);
  });

  it('serves several discovered issuers, each with its own keys, and refuses others without fetching', async () => {
    const a = await createTestIssuer({ appId: 'app-a', audience: 'shared-api' });
    const b = await createTestIssuer({ appId: 'app-b', audience: 'shared-api' });
    issuers.push(a, b);
    const auth = createBearerAuth({ issuer: [a.issuer, b.issuer], audience: 'shared-api', logger: silent, env: {} });
    expect((await auth.verify(a.mint({ sub: 'from-a' }))).subject).toBe('from-a');
    expect((await auth.verify(b.mint({ sub: 'from-b' }))).subject).toBe('from-b');
    // b's token claiming to come from a: a's keys do not verify it.
    await expect(auth.verify(b.mint({ iss: a.issuer }))).rejects.toMatchObject({ reason: 'unknown_key' });
    await expect(auth.verify(a.mint({ iss: 'https://evil.example/' }))).rejects.toMatchObject({ reason: 'unexpected_issuer' });
    expect(a.jwksFetches + b.jwksFetches).toBe(2);
  });
});

describe('sharing', () => {
  it('shares one key cache between instances and requireToken() calls with equal options', async () => {
    const issuer = await createTestIssuer();
    issuers.push(issuer);
    const app = express();
    const options = { ...issuer.options, logger: silent };
    for (let i = 0; i < 5; i++) {
      app.get(`/r${i}`, requireToken(undefined, options), (_req, res) => {
        res.json({});
      });
    }
    const token = issuer.mint();
    for (let i = 0; i < 5; i++) await request(app).get(`/r${i}`).set('Authorization', `Bearer ${token}`).expect(200);
    await createBearerAuth(options).verify(token);
    expect(issuer.jwksFetches).toBe(1);
  });

  it('shares keys even when middleware is (wrongly) built per request', async () => {
    const issuer = await createTestIssuer();
    issuers.push(issuer);
    const app = express();
    app.get('/x', (req, res, next) => requireToken(undefined, { ...issuer.options, logger: silent })(req, res, next), (_req, res) => {
      res.json({});
    });
    const token = issuer.mint();
    for (let i = 0; i < 10; i++) await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(200);
    expect(issuer.jwksFetches).toBe(1);
  });
});
