/**
 * Opaque tokens accepted by RFC 7662 introspection at the test kit's issuer, over real HTTP: what
 * a handler reads, what is refused (and for which reason), what the cache and single flight save
 * the issuer, and how long a revocation may go unnoticed (`cacheTtl`, by a fake clock).
 */
import { describe, expect, it } from 'vitest';
import { createBearerAuth, InvalidTokenError } from 'cyberark-bearer';
import { AUDIENCE, opaqueOnly, ORDERS_API, perTest, randomOpaque, REPORTING } from './harness.js';

const { start, fakeClock } = perTest();
const OPAQUE = opaqueOnly();

/** An API that relies on an answer for `cacheTtl` s, a fake clock, and an opaque token it has just accepted. */
async function acceptedWithCacheTtl(cacheTtl: number) {
  const api = await start(opaqueOnly({ cacheTtl }));
  const clock = fakeClock();
  const token = api.opaque();
  expect((await api.call('/orders', token)).status).toBe(200);
  return { api, clock, token };
}

describe('an opaque token', () => {
  it('is accepted once the issuer says it is active, and req.auth has the shape of a JWT', async () => {
    const api = await start(OPAQUE);
    const token = api.opaque({ team: 'finance' });
    const res = await api.call('/me', token);
    expect(res.status).toBe(200);
    const { claims, expiresAt, ...rest } = res.body as { claims: Record<string, unknown>; expiresAt: number };
    expect(rest).toEqual({
      source: 'introspection',
      clientId: REPORTING.clientId,
      subject: REPORTING.subject,
      scopes: ['orders.read', 'payments.write'],
      header: {},
    });
    expect(expiresAt).toBe(claims.exp);
    expect(claims).toMatchObject({
      active: true,
      client_id: REPORTING.clientId,
      username: REPORTING.clientId,
      team: 'finance',
      aud: AUDIENCE,
    });
    expect((await api.call('/orders', token)).body).toEqual({ caller: REPORTING.clientId });
    expect(api.issuer.introspections).toBe(1);
  });

  it('is asked about with HTTP Basic, id and secret form-encoded first (RFC 6749 §2.3.1)', async () => {
    // The kit refuses unencoded credentials: this secret holds a space, "+", "%" and ":".
    expect(ORDERS_API.clientSecret).toMatch(/[ +%:]/);
    const api = await start(OPAQUE);
    expect((await api.call('/me', api.opaque())).status).toBe(200);
    const wrong = await start(opaqueOnly({ clientSecret: 'wrong' }));
    const res = await wrong.call('/me', wrong.opaque());
    expect(res.status).toBe(503);
    const [failed] = wrong.logged('token introspection failed');
    expect(failed).toMatchObject({ status: 401 });
    expect(failed!.hint).toMatch(/clientSecret/);
    expect(wrong.log.text()).not.toContain('wrong');
  });

  it.each<[string, number, string, Record<string, unknown>]>([
    ['for another audience', 401, 'unexpected audience', { aud: 'billing-api' }],
    ['among other audiences, ours included', 200, '', { aud: ['billing-api', AUDIENCE] }],
    ['from another issuer', 401, 'unexpected issuer', { iss: 'https://other.example/orders-api/' }],
    ['with a non-numeric exp', 401, 'token claim has an invalid value', { exp: '2030-01-01' }],
    ['with scopes as an array (granting nothing)', 403, 'insufficient scope', { scope: ['orders.read'] }],
    ['without the route scope', 403, 'insufficient scope', { scope: 'payments.write' }],
    ['without iss and aud (nothing to compare)', 200, '', { iss: undefined, aud: undefined }],
  ])('active %s: %i', async (_case, status, description, claims) => {
    const api = await start(OPAQUE);
    const res = await api.call('/orders', api.opaque(claims));
    expect(res.status).toBe(status);
    if (description) expect(res.body.error_description).toBe(description);
  });

  it('is refused with 401 token_inactive once revoked, unknown, expired or its client disabled', async () => {
    const api = await start(OPAQUE);
    const now = Math.floor(Date.now() / 1000);
    const revoked = api.opaque();
    api.issuer.revoke(revoked);
    const disabled = api.opaque({ unique_name: 'svc-gone@cyberark.cloud.1234' });
    api.issuer.disableClient('svc-gone@cyberark.cloud.1234');
    for (const token of [revoked, disabled, randomOpaque(), api.opaque({ iat: now - 7200, exp: now - 3600 })]) {
      const res = await api.call('/orders', token);
      expect(res.status).toBe(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'token is not active' });
      expect(res.headers.get('www-authenticate')).toBe(
        'Bearer realm="api", error="invalid_token", error_description="token is not active"',
      );
    }
    expect(api.logged('bearer token refused').map((line) => line.reason)).toEqual(Array(4).fill('token_inactive'));
  });

  it('that cannot be a token (too short, too long, outside RFC 6750) is refused before any call', async () => {
    const api = await start({ bearer: { tokens: 'opaque', maxTokenLength: 1024 } });
    expect((await api.call('/orders', 'abc123')).status).toBe(401);
    expect((await api.call('/orders', 'x'.repeat(1025))).body.error_description).toBe('token too large');
    expect((await api.call('/orders', `${randomOpaque()}*!`)).status).toBe(400);
    expect(api.issuer.introspections).toBe(0);
  });

  it("is refused as not a JWT with tokens: 'jwt' (the default), without a call", async () => {
    const api = await start({ bearer: { tokens: 'jwt' } });
    const res = await api.call('/orders', api.opaque());
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe('token is not a JWT (opaque tokens are not accepted)');
    expect(api.issuer.introspections).toBe(0);
  });

  it('is verified by auth.verify() too, which throws InvalidTokenError for an inactive one', async () => {
    const api = await start(OPAQUE);
    const auth = await api.auth.verify(api.opaque({ scope: 'orders.read' }));
    expect(auth).toMatchObject({ source: 'introspection', scopes: ['orders.read'], clientId: REPORTING.clientId });
    expect(Object.isFrozen(auth.claims)).toBe(true);
    await expect(api.auth.verify(randomOpaque())).rejects.toBeInstanceOf(InvalidTokenError);
  });

  it("with tokens: 'opaque', JWTs are introspected too, never verified locally", async () => {
    const api = await start(OPAQUE);
    const res = await api.call('/me', api.jwt());
    expect(res.status).toBe(200);
    expect(res.body.source).toBe('introspection');
    expect(api.issuer.introspections).toBe(1);
    expect(api.issuer.jwksFetches).toBe(0);
  });
});

describe('the cache of answers', () => {
  it('asks once for a token used again and again, and once for a bad token repeated', async () => {
    const api = await start(OPAQUE);
    const good = api.opaque();
    const bad = randomOpaque();
    for (let i = 0; i < 10; i++) {
      expect((await api.call('/orders', good)).status).toBe(200);
      expect((await api.call('/orders', bad)).status).toBe(401);
    }
    expect(api.issuer.introspections).toBe(2);
  });

  it('shares one call among concurrent requests with the same token', async () => {
    const api = await start(OPAQUE);
    api.issuer.setFault('introspect', 'slow', { delayMs: 300 });
    const token = api.opaque();
    const statuses = await Promise.all(Array.from({ length: 20 }, () => api.call('/orders', token).then((r) => r.status)));
    expect(statuses).toEqual(Array(20).fill(200));
    expect(api.issuer.introspections).toBe(1);
    expect(api.issuer.maxIntrospectionsInFlight).toBe(1);
  });

  it('notices a revocation within cacheTtl, and never later', async () => {
    const { api, clock, token } = await acceptedWithCacheTtl(20);
    api.issuer.revoke(token);
    clock.advance(19);
    expect((await api.call('/orders', token)).status).toBe(200); // the cached answer still counts
    clock.advance(1);
    expect((await api.call('/orders', token)).status).toBe(401);
    expect(api.issuer.introspections).toBe(2);
  });

  it('notices a disabled client within cacheTtl', async () => {
    const { api, clock, token } = await acceptedWithCacheTtl(5);
    api.issuer.disableClient(REPORTING.clientId);
    clock.advance(5);
    expect((await api.call('/orders', token)).body.error_description).toBe('token is not active');
  });

  it("never relies on an answer beyond the token's exp", async () => {
    const api = await start(OPAQUE);
    const clock = fakeClock();
    const token = api.opaque({ exp: Math.floor(Date.now() / 1000) + 5 });
    expect((await api.call('/orders', token)).status).toBe(200);
    clock.advance(6);
    expect((await api.call('/orders', token)).status).toBe(401);
    expect(api.issuer.introspections).toBe(2);
  });

  it('asks on every request with cacheTtl 0', async () => {
    const api = await start(opaqueOnly({ cacheTtl: 0 }));
    const token = api.opaque();
    for (let i = 0; i < 3; i++) expect((await api.call('/orders', token)).status).toBe(200);
    api.issuer.revoke(token);
    expect((await api.call('/orders', token)).status).toBe(401);
    expect(api.issuer.introspections).toBe(4);
  });

  it('remembers a refusal for negativeCacheTtl, then asks again', async () => {
    const api = await start(opaqueOnly({ negativeCacheTtl: 3 }));
    const clock = fakeClock();
    const token = api.opaque({ unique_name: 'svc-paused@cyberark.cloud.1234' });
    api.issuer.disableClient('svc-paused@cyberark.cloud.1234');
    expect((await api.call('/orders', token)).status).toBe(401);
    api.issuer.enableClient('svc-paused@cyberark.cloud.1234');
    expect((await api.call('/orders', token)).status).toBe(401);
    clock.advance(3);
    expect((await api.call('/orders', token)).status).toBe(200);
    expect(api.issuer.introspections).toBe(2);
  });

  it('is shared by every instance built with the same options', async () => {
    const api = await start(OPAQUE);
    const token = api.opaque();
    expect((await api.call('/orders', token)).status).toBe(200);
    const again = createBearerAuth({
      ...api.issuer.options,
      tokens: 'opaque',
      introspection: { clientId: ORDERS_API.clientId, clientSecret: ORDERS_API.clientSecret },
      logger: api.log.logger,
      env: {},
    });
    await again.verify(token);
    expect(api.issuer.introspections).toBe(1);
  });
});
