/**
 * The signing-key cache against the test kit's issuer: ready() at boot, discovery, and sharing
 * between instances. The fault scenarios (cold bursts, unknown-kid floods, outages, stale-if-error,
 * refreshes, removed keys) are in test/resilience/.
 */
import express from 'express';
import request from 'supertest';
import { afterEach, describe, expect, it } from 'vitest';
import { createBearerAuth, requireToken, KeysFetchError, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { guardedApp } from './support/apps.js';
import { silent } from './support/logger.js';

const issuers: TestIssuer[] = [];
afterEach(async () => {
  await Promise.all(issuers.splice(0).map((i) => i.close()));
});

async function setup(options: Partial<BearerAuthOptions> = {}, issuerOptions: TestIssuerOptions = {}) {
  const issuer = await createTestIssuer(issuerOptions);
  issuers.push(issuer);
  const auth = createBearerAuth({ ...issuer.options, logger: silent, ...options });
  const app = guardedApp(auth.requireToken());
  const call = (token: string) => request(app).get('/x').set('Authorization', `Bearer ${token}`);
  return { issuer, auth, app, call };
}

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
    const app = guardedApp((req, res, next) => requireToken(undefined, { ...issuer.options, logger: silent })(req, res, next));
    const token = issuer.mint();
    for (let i = 0; i < 10; i++) await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(200);
    expect(issuer.jwksFetches).toBe(1);
  });
});
