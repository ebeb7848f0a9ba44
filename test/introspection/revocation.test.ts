/**
 * `tokens: 'any'` and revocation-sensitive routes over real HTTP: JWTs verified locally (and,
 * where a route asks, found active by introspection too), opaque tokens introspected, and the
 * route option that keeps `requireToken('a', 'b')` impossible.
 */
import { describe, expect, expectTypeOf, it } from 'vitest';
import { ConfigError, createBearerAuth, requireToken, type RouteOptions } from 'cyberark-bearer';
import { createTestIssuer } from 'cyberark-bearer/testing';
import { silent } from '../support/logger.js';
import { ORDERS_API, perTest, REPORTING } from './harness.js';

const { start, fakeClock } = perTest();

describe("tokens: 'any'", () => {
  it('verifies JWTs locally and introspects the others', async () => {
    const api = await start();
    const jwt = await api.call('/me', api.jwt());
    expect(jwt.status).toBe(200);
    expect(jwt.body).toMatchObject({ source: 'jwt', clientId: REPORTING.clientId, header: { alg: 'RS256', typ: 'JWT' } });
    expect(api.issuer.introspections).toBe(0);
    const opaque = await api.call('/me', api.opaque());
    expect(opaque.body).toMatchObject({ source: 'introspection', clientId: REPORTING.clientId });
    expect(api.issuer.introspections).toBe(1);
  });

  it('refuses a forged JWT locally, without asking the issuer', async () => {
    const api = await start();
    const forged = api.jwt({ scope: 'orders.read' }).replace(/\.[^.]+$/, '.AAAA');
    expect((await api.call('/orders', forged)).body.error_description).toBe('invalid signature');
    expect((await api.call('/payments', forged)).body.error_description).toBe('invalid signature');
    expect(api.issuer.introspections).toBe(0);
  });
});

describe("a route with { revocation: 'introspect' }", () => {
  it('refuses a revoked JWT within cacheTtl, while routes without it still accept it until exp', async () => {
    const api = await start({ bearer: { introspection: { ...ORDERS_API, cacheTtl: 15 } } });
    const clock = fakeClock();
    const token = api.jwt({ jti: 'revoked-later' });
    expect((await api.call('/payments', token)).body).toEqual({ caller: REPORTING.clientId, source: 'jwt' });
    api.issuer.revoke(token);
    clock.advance(14);
    expect((await api.call('/payments', token)).status).toBe(200);
    clock.advance(1);
    const res = await api.call('/payments', token);
    expect(res.status).toBe(401);
    expect(res.body.error_description).toBe('token is not active');
    expect((await api.call('/orders', token)).status).toBe(200);
    expect(api.issuer.introspections).toBe(2);
  });

  it('refuses the JWTs of a disabled service user', async () => {
    const api = await start();
    const token = api.jwt({ jti: 'disabled' });
    api.issuer.disableClient(REPORTING.clientId);
    expect((await api.call('/payments', token)).status).toBe(401);
    expect((await api.call('/orders', token)).status).toBe(200);
  });

  it("works with tokens: 'jwt' too, where opaque tokens stay refused", async () => {
    const api = await start({ bearer: { tokens: 'jwt' } });
    expect((await api.call('/payments', api.jwt())).status).toBe(200);
    expect((await api.call('/payments', api.opaque())).body.error_description).toBe(
      'token is not a JWT (opaque tokens are not accepted)',
    );
    expect(api.issuer.introspections).toBe(1);
  });

  it('is answered from both caches once seen: no second call, no signature check', async () => {
    const api = await start();
    const token = api.jwt({ jti: 'hot' });
    for (let i = 0; i < 5; i++) expect((await api.call('/payments', token)).status).toBe(200);
    expect(api.issuer.introspections).toBe(1);
  });

  it('is available to verify(), authenticate() and explain() as their route option', async () => {
    const api = await start();
    const token = api.jwt({ jti: 'framework-free' });
    api.issuer.revoke(token);
    expect((await api.auth.verify(token)).source).toBe('jwt');
    await expect(api.auth.verify(token, { revocation: 'introspect' })).rejects.toMatchObject({
      reason: 'token_inactive',
      status: 401,
    });
    const req = { headers: { authorization: `Bearer ${token}` } };
    await expect(api.auth.authenticate(req, 'orders.read', { revocation: 'introspect' })).rejects.toMatchObject({
      reason: 'token_inactive',
    });
    const why = await api.auth.explain(token, undefined, { revocation: 'introspect' });
    expect(why.valid).toBe(false);
    expect(why.checks.find((c) => c.ok === false)).toMatchObject({ check: 'introspection', found: 'inactive' });
    expect(why.introspection).toEqual({ active: false });
  });

  it('needs introspection configured: a ConfigError when the route is built', async () => {
    const issuer = await createTestIssuer({ appId: 'route-app' });
    try {
      const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
      expect(() => auth.requireToken('payments.write')).not.toThrow();
      expect(() => auth.requireToken('payments.write', { revocation: 'introspect' })).toThrow(ConfigError);
      expect(() => auth.requireToken('payments.write', { revocation: 'introspect' })).toThrow(
        /introspection\.clientId.*CYBERARK_INTROSPECTION_CLIENT_ID.*revocation/,
      );
    } finally {
      await issuer.close();
    }
  });
});

describe('the route option', () => {
  it('keeps a second scope refused, by the compiler and at run time', async () => {
    const issuer = await createTestIssuer({ appId: 'route-app' });
    try {
      const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
      // @ts-expect-error -- a second scope is not route options: write ['a', 'b'] or { anyOf: [...] }
      expect(() => auth.requireToken('orders.read', 'orders.write')).toThrow(/takes one scope requirement, got 2 arguments/);
      // @ts-expect-error -- nor is a list
      expect(() => auth.requireToken('orders.read', ['orders.write'])).toThrow(/takes one scope requirement/);
      // @ts-expect-error -- three arguments
      expect(() => auth.requireToken('a', { revocation: 'introspect' }, 'b')).toThrow(
        /takes one scope requirement, got 3 arguments/,
      );
      // @ts-expect-error -- the one-liner's second argument is the configuration
      expect(() => requireToken('orders.read', 'orders.write')).toThrow(/takes one scope requirement/);
      // The one-liner's second argument is configuration: route options there are refused by name.
      expect(() => requireToken('orders.read', { revocation: 'introspect' } as never)).toThrow(
        /option "revocation" is not an option of cyberark-bearer/,
      );
      expectTypeOf<RouteOptions>().toEqualTypeOf<{ readonly revocation?: 'introspect' | undefined }>();
    } finally {
      await issuer.close();
    }
  });

  it.each<[string, unknown, RegExp]>([
    ['an unknown key', { revocaton: 'introspect' }, /option "route\.revocaton" is not a route option/],
    ['another value', { revocation: 'local' }, /option "route\.revocation" must be "introspect", got "local"/],
    ['a number', 5, /option "route" must be an object/],
  ])('refuses %s', async (_case, route, message) => {
    const issuer = await createTestIssuer({ appId: 'route-app' });
    try {
      const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
      expect(() => auth.requireToken('orders.read', route as RouteOptions)).toThrow(message);
    } finally {
      await issuer.close();
    }
  });
});
