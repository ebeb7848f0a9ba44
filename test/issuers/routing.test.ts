/**
 * Several apps, one API: tokens routed by their exact `iss` and held to that issuer's keys,
 * audience and settings only, over real HTTP against test-kit issuers on different ports.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer } from 'cyberark-bearer/testing';
import { json, scriptedServer } from '../support/scripted-server.js';
import { silent } from '../support/logger.js';
import { issuersOf, startApi, startTenants, type Api, type Tenants } from './harness.js';

const now = () => Math.floor(Date.now() / 1000);

describe('issuers: each app with its own audience', () => {
  let tenants: Tenants;
  let api: Api;
  beforeAll(async () => {
    tenants = await startTenants();
    api = await startApi({ issuers: issuersOf(tenants) });
  });
  afterAll(async () => {
    await api.close();
    await tenants.close();
  });

  it("admits each app's tokens with its own audience, and req.auth.issuer says which issuer admitted them", async () => {
    const { orders, partner, staging } = tenants;
    for (const [app, aud] of [
      [orders, 'orders'],
      [partner, 'partner-orders'],
      [staging, 'orders'],
    ] as const) {
      const res = await api.get(app.mint({ aud, scope: 'orders.read' })).expect(200);
      expect(res.body).toEqual({ issuer: app.issuer, caller: 'test-client@cyberark.cloud.0000', scopes: ['orders.read'] });
    }
  });

  it("refuses app A's token carrying app B's audience: 401 unexpected_audience, both ways", async () => {
    const { orders, partner, staging } = tenants;
    for (const token of [
      orders.mint({ aud: 'partner-orders', scope: 'orders.read' }),
      partner.mint({ aud: 'orders', scope: 'orders.read' }),
      staging.mint({ aud: 'partner-orders', scope: 'orders.read' }),
    ]) {
      const res = await api.get(token).expect(401);
      expect(res.body).toEqual({ error: 'invalid_token', error_description: 'unexpected audience' });
      expect(api.refusals()).toMatchObject([{ reason: 'unexpected_audience' }]);
    }
  });

  it("checks a token against the keys of the issuer it names: app B's key under app A's iss is a bad signature", async () => {
    const { orders, partner } = tenants;
    // The kid is the partner's, which the orders JWKS does not publish.
    const res = await api.get(partner.mint({ iss: orders.issuer, aud: 'orders', scope: 'orders.read' })).expect(401);
    expect(res.body).toMatchObject({ error: 'invalid_token' });
    expect(api.refusals()[0]!.reason).toMatch(/^(unknown_key|bad_signature)$/);
    // The same key id as the orders key, signed by the partner's key: the signature fails.
    const forged = partner.mint({ iss: orders.issuer, aud: 'orders', scope: 'orders.read' }, { kid: orders.kid });
    await api.get(forged).expect(401);
    expect(api.refusals()).toMatchObject([{ reason: 'bad_signature' }]);
  });

  it('status() names every issuer, with the URL its keys come from', () => {
    const { orders, partner, staging } = tenants;
    const status = api.auth.status();
    expect(Object.keys(status)).toEqual([orders.issuer, partner.issuer, staging.issuer]);
    expect(status[orders.issuer]).toMatchObject({ url: orders.jwksUri, usable: true, kids: [orders.kid] });
    expect(status[partner.issuer]).toMatchObject({ url: partner.jwksUri, usable: true, kids: [partner.kid] });
    expect(status[staging.issuer]).toMatchObject({ url: staging.jwksUri, usable: true, kids: [staging.kid] });
  });

  it('the resolved config lists every issuer with what its tokens are held to', () => {
    const { orders, partner, staging } = tenants;
    const { config } = api.auth;
    expect(config.issuers).toEqual([orders.issuer, partner.issuer, staging.issuer]);
    expect(config.perIssuer.map(({ issuer, audiences, jwksUri }) => ({ issuer, audiences, jwksUri }))).toEqual([
      { issuer: orders.issuer, audiences: ['orders'], jwksUri: orders.jwksUri },
      { issuer: partner.issuer, audiences: ['partner-orders'], jwksUri: partner.jwksUri },
      { issuer: staging.issuer, audiences: ['orders'], jwksUri: undefined },
    ]);
    expect(Object.isFrozen(config.perIssuer[0])).toBe(true);
  });
});

describe('issuers: what an unknown or shared issuer costs', () => {
  it('refuses an unknown iss as unexpected_issuer without fetching any keys or metadata', async () => {
    const tenants = await startTenants();
    const api = await startApi({ issuers: issuersOf(tenants) });
    try {
      const { orders, partner, staging } = tenants;
      for (const token of [
        orders.mint({ iss: 'https://unknown.example/orders-api/', aud: 'orders', scope: 'orders.read' }),
        orders.mint({ iss: `${orders.url}/orders-api`, aud: 'orders', scope: 'orders.read' }), // no trailing slash
        orders.mint({ iss: undefined, aud: 'orders', scope: 'orders.read' }),
        orders.mint({ iss: ['x'], aud: 'orders', scope: 'orders.read' }, { kid: 'never-published' }),
      ]) {
        const res = await api.get(token).expect(401);
        expect(res.body).toMatchObject({ error_description: 'unexpected issuer' });
      }
      expect([orders, partner, staging].map((i) => i.jwksFetches + i.discoveryFetches)).toEqual([0, 0, 0]);
    } finally {
      await api.close();
      await tenants.close();
    }
  });

  it('makes one fetch per JWKS URL on a cold start, however many issuers name it', async () => {
    const shared = await createTestIssuer({ appId: 'shared-keys' });
    const orders = await createTestIssuer({ appId: 'orders-api', audience: 'orders' });
    const api = await startApi({
      issuers: [
        { issuer: 'https://a.example/', jwksUri: shared.jwksUri, audience: 'a' },
        { issuer: 'https://b.example/', jwksUri: shared.jwksUri, audience: 'b', algorithms: ['RS256', 'PS256'] },
        { issuer: 'https://c.example/', jwksUri: shared.jwksUri, audience: 'c', clockTolerance: 5 },
        orders.options,
      ],
    });
    try {
      const tokens = [
        ...['a', 'b', 'c'].map((x) => shared.mint({ iss: `https://${x}.example/`, aud: x, scope: 'orders.read' })),
        orders.mint({ scope: 'orders.read' }),
      ];
      // A cold start: every request waits for keys at once.
      const responses = await Promise.all(tokens.flatMap((t) => [api.get(t), api.get(t)]));
      expect(responses.map((r) => r.status)).toEqual(tokens.flatMap(() => [200, 200]));
      expect(responses.map((r) => (r.body as { issuer: string }).issuer)).toEqual(
        ['https://a.example/', 'https://b.example/', 'https://c.example/', orders.issuer].flatMap((i) => [i, i]),
      );
      expect([shared.jwksFetches, orders.jwksFetches]).toEqual([1, 1]);
      // Each issuer's audience from its own tokens only, though they share keys.
      await api.get(shared.mint({ iss: 'https://a.example/', aud: 'b', scope: 'orders.read' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'unexpected_audience' }]);
    } finally {
      await api.close();
      await shared.close();
      await orders.close();
    }
  });

  it("ready() fetches every issuer's keys, once per JWKS URL, and status() then shows them usable", async () => {
    const tenants = await startTenants();
    const { orders, partner, staging } = tenants;
    const auth = createBearerAuth({
      issuers: [...issuersOf(tenants), { issuer: 'https://also-orders.example/', jwksUri: orders.jwksUri, audience: 'orders' }],
      logger: silent,
      env: {},
    });
    try {
      await auth.ready();
      expect([orders.jwksFetches, partner.jwksFetches, staging.jwksFetches, staging.discoveryFetches]).toEqual([1, 1, 1, 1]);
      expect(Object.values(auth.status()).map((s) => s.usable)).toEqual([true, true, true, true]);
      partner.setFault('jwks', 'error');
      await expect(
        createBearerAuth({ issuers: issuersOf(tenants), keyCache: { maxAge: 60 }, logger: silent, env: {} }).ready(),
      ).rejects.toThrow(partner.jwksUri);
    } finally {
      await tenants.close();
    }
  });
});

describe('issuers: per-issuer settings', () => {
  let tenants: Tenants;
  beforeAll(async () => {
    tenants = await startTenants();
  });
  afterAll(() => tenants.close());

  it('scopeClaim: each issuer reads the scopes from its own claim', async () => {
    const { orders, partner } = tenants;
    const api = await startApi({
      issuers: [
        { ...orders.options, audience: 'orders' },
        { ...partner.options, audience: 'partner-orders', scopeClaim: 'permissions' },
      ],
    });
    try {
      await api.get(partner.mint({ permissions: ['orders.read'] })).expect(200);
      await api.get(partner.mint({ scope: 'orders.read' })).expect(403);
      await api.get(orders.mint({ scope: 'orders.read' })).expect(200);
      await api.get(orders.mint({ permissions: ['orders.read'] })).expect(403);
    } finally {
      await api.close();
    }
  });

  it('algorithms: an issuer may require its own, and its key set is filtered for them', async () => {
    const { orders } = tenants;
    // The orders key published again without its `alg`, so that it may verify PS256 as well.
    const jwks = await scriptedServer([json(200, { keys: orders.jwks().keys.map((jwk) => ({ ...jwk, alg: undefined })) })]);
    const api = await startApi({
      issuers: [
        { ...orders.options, audience: 'orders' },
        { issuer: 'https://pss.example/', jwksUri: `${jwks.url}/keys`, audience: 'pss', algorithms: ['PS256'] },
      ],
    });
    try {
      await api.get(orders.mint({ iss: 'https://pss.example/', aud: 'pss', scope: 'orders.read' }, { alg: 'PS256' })).expect(200);
      await api.get(orders.mint({ iss: 'https://pss.example/', aud: 'pss', scope: 'orders.read' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'algorithm_not_allowed' }]);
      await api.get(orders.mint({ scope: 'orders.read' })).expect(200);
      await api.get(orders.mint({ scope: 'orders.read' }, { alg: 'PS256' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'algorithm_not_allowed' }]);
    } finally {
      await api.close();
      await jwks.close();
    }
  });

  it('clockTolerance and maxTokenAge: each issuer its own, the shared value for the others', async () => {
    const { orders, partner, staging } = tenants;
    const api = await startApi({
      clockTolerance: 0,
      issuers: [
        { ...orders.options, audience: 'orders', clockTolerance: 120 },
        { ...partner.options, audience: 'partner-orders', maxTokenAge: 60 },
        { issuer: staging.issuer, audience: 'orders' },
      ],
    });
    try {
      const expiredAMinuteAgo = { scope: 'orders.read', iat: now() - 600, exp: now() - 60 };
      await api.get(orders.mint(expiredAMinuteAgo)).expect(200);
      await api.get(partner.mint({ ...expiredAMinuteAgo, aud: 'partner-orders' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'token_expired' }]);
      await api.get(staging.mint({ ...expiredAMinuteAgo, aud: 'orders' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'token_expired' }]);

      const issuedTwoMinutesAgo = { scope: 'orders.read', iat: now() - 120 };
      await api.get(partner.mint({ ...issuedTwoMinutesAgo, aud: 'partner-orders' })).expect(401);
      expect(api.refusals()).toMatchObject([{ reason: 'token_too_old' }]);
      await api.get(orders.mint(issuedTwoMinutesAgo)).expect(200);
    } finally {
      await api.close();
    }
  });

  it('req.auth.issuer is set in the single-issuer form too', async () => {
    const { orders } = tenants;
    const api = await startApi({ ...orders.options });
    try {
      const res = await api.get(orders.mint({ scope: 'orders.read' })).expect(200);
      expect(res.body).toMatchObject({ issuer: orders.issuer });
      expect((await api.auth.verify(orders.mint())).issuer).toBe(orders.issuer);
    } finally {
      await api.close();
    }
  });

  it('with issuer: [a, b] (one JWKS URL), req.auth.issuer is the one the token names', async () => {
    const { orders } = tenants;
    const api = await startApi({ ...orders.options, issuer: [orders.issuer, 'https://alias.example/'] });
    try {
      const res = await api.get(orders.mint({ iss: 'https://alias.example/', scope: 'orders.read' })).expect(200);
      expect(res.body).toMatchObject({ issuer: 'https://alias.example/' });
    } finally {
      await api.close();
    }
  });
});
