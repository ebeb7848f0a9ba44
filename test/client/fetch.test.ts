/**
 * `fetch()` of the token client against the example orders API: the header is added, a token
 * the API calls invalid_token is replaced once, and other refusals are returned as they are.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createClientCredentials } from 'cyberark-bearer/client';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from '../../example-server/app.js';
import { listen, type Listening } from '../support/http.js';
import { silent } from '../support/logger.js';
import { redirect, scriptedServer, type ScriptedServer } from '../support/scripted-server.js';

let issuer: TestIssuer;
const servers: Listening[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({
    appId: 'orders-api',
    clients: [
      { clientId: 'writer', clientSecret: 'writer-secret', scopes: ['orders.read', 'orders.write'] },
      { clientId: 'reader', clientSecret: 'reader-secret', scopes: ['orders.read'] },
    ],
  });
});
afterAll(async () => {
  await Promise.all(servers.map((server) => server.close()));
  await issuer.close();
});
afterEach(() => vi.useRealTimers());

/** The example orders API on a free port, trusting the kit's issuer. */
async function ordersApi(options: Partial<BearerAuthOptions> = {}): Promise<string> {
  const server = await listen(createApp(createBearerAuth({ ...issuer.options, logger: silent, ...options }), silent));
  servers.push(server);
  return server.url;
}

/** A client of the kit's issuer, with its process-wide cache emptied so each test starts cold. */
function client(id: 'writer' | 'reader', scope: string[], allowInsecureHttp = false) {
  const created = createClientCredentials({
    tenantUrl: issuer.url,
    appId: 'orders-api',
    clientId: id,
    clientSecret: `${id}-secret`,
    scope,
    logger: silent,
    env: {},
    allowInsecureHttp,
  });
  created.invalidate();
  return created;
}

describe('fetch()', () => {
  it('sends the token as Authorization: Bearer, with the method, headers and body given', async () => {
    const api = await ordersApi();
    const orders = client('writer', ['orders.read', 'orders.write']);
    const list = await orders.fetch(`${api}/orders`);
    expect(list.status).toBe(200);
    expect(((await list.json()) as { orders: unknown[] }).orders.length).toBeGreaterThan(0);

    const created = await orders.fetch(new URL('/orders', api), {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer replaced-by-the-client' },
      body: JSON.stringify({ item: 'gadget', quantity: 2 }),
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ item: 'gadget', quantity: 2, createdBy: 'writer' });

    const viaRequest = await orders.fetch(new Request(`${api}/whoami`));
    expect(await viaRequest.json()).toMatchObject({ clientId: 'writer' });
  });

  it('retries once with a new token when the API answers 401 invalid_token, resending the body', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    // An API that refuses tokens older than 60 s (+30 s tolerance): fresh for the client, too old for it.
    const api = await ordersApi({ maxTokenAge: 60 });
    const orders = client('writer', ['orders.read', 'orders.write']);
    const before = issuer.tokenRequests;
    const stale = await orders.getToken();
    vi.setSystemTime(Date.now() + 300_000);

    const res = await orders.fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ item: 'sprocket' }),
    });
    expect(res.status).toBe(201);
    expect(await res.json()).toMatchObject({ item: 'sprocket', quantity: 1 });
    expect(issuer.tokenRequests - before).toBe(2);
    expect(await orders.getToken()).not.toBe(stale);
  });

  it('retries only once, returning the second 401', async () => {
    const api = await alwaysInvalidApi();
    try {
      const orders = client('reader', ['orders.read']);
      const before = issuer.tokenRequests;
      const res = await orders.fetch(`${api.url}/orders`, { method: 'PUT', body: 'payload' });
      expect(res.status).toBe(401);
      expect(api.received).toHaveLength(2);
      expect(api.received.map((r) => r.body)).toEqual(['payload', 'payload']);
      expect(issuer.tokenRequests - before).toBe(2);
      const [first, second] = api.received.map((r) => r.headers.authorization);
      expect(first).toMatch(/^Bearer ey/);
      expect(second).toMatch(/^Bearer ey/);
    } finally {
      await api.close();
    }
  });

  it('returns other refusals as they are: 403 insufficient_scope is not retried', async () => {
    const api = await ordersApi();
    const orders = client('reader', ['orders.read']);
    await orders.getToken();
    const before = issuer.tokenRequests;
    const res = await orders.fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":"x"}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect(issuer.tokenRequests).toBe(before);
  });

  it('does not retry a 401 without invalid_token, nor a streamed body it cannot send twice', async () => {
    const bare = await scriptedServer([(_req, res) => res.writeHead(401, { 'www-authenticate': 'Bearer realm="api"' }).end()]);
    const invalid = await alwaysInvalidApi();
    try {
      const orders = client('reader', ['orders.read']);
      expect((await orders.fetch(`${bare.url}/x`)).status).toBe(401);
      expect(bare.received).toHaveLength(1);

      const body = new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode('streamed'));
          controller.close();
        },
      });
      const res = await orders.fetch(`${invalid.url}/upload`, { method: 'POST', body, duplex: 'half' });
      expect(res.status).toBe(401);
      expect(invalid.received).toHaveLength(1);
      expect(invalid.received[0]!.body).toBe('streamed');
    } finally {
      await bare.close();
      await invalid.close();
    }
  });
});

describe('fetch() over plain http', () => {
  // 0.0.0.0 is no loopback host to the transport rule, yet reaches this machine: a server of ours
  // there shows by its empty request log that nothing was sent, and no packet leaves the machine.
  const elsewhere = (server: ScriptedServer) => server.url.replace('127.0.0.1', '0.0.0.0');
  const ok = () => scriptedServer([(_req, res) => res.writeHead(200).end('ok')]);

  it('refuses to send the token to a host other than loopback, before asking for one', async () => {
    const api = await ok();
    try {
      const orders = client('reader', ['orders.read']);
      const before = issuer.tokenRequests;
      const message = `cyberark-bearer: refusing to send a bearer token over plain http to ${elsewhere(api)}/orders: use https (plain http is allowed only to loopback hosts, or with allowInsecureHttp)`;
      await expect(orders.fetch(`${elsewhere(api)}/orders?token=query-secret`)).rejects.toThrow(message);
      await expect(orders.fetch(new Request(`${elsewhere(api)}/orders`, { method: 'POST', body: 'x' }))).rejects.toThrow(
        TypeError,
      );
      expect(api.received).toHaveLength(0);
      expect(issuer.tokenRequests).toBe(before);
    } finally {
      await api.close();
    }
  });

  it('sends it to loopback, and anywhere with allowInsecureHttp', async () => {
    const api = await ok();
    try {
      expect((await client('reader', ['orders.read']).fetch(`${api.url.replace('127.0.0.1', 'localhost')}/orders`)).status).toBe(
        200,
      );
      expect((await client('reader', ['orders.read'], true).fetch(`${elsewhere(api)}/orders`)).status).toBe(200);
      expect(api.received.map((r) => r.headers.authorization)).toEqual([
        expect.stringMatching(/^Bearer ey/),
        expect.stringMatching(/^Bearer ey/),
      ]);
    } finally {
      await api.close();
    }
  });

  it('does not carry the token through a redirect to another origin', async () => {
    const target = await ok();
    const api = await scriptedServer([redirect(302, `${elsewhere(target)}/moved`)]);
    try {
      expect((await client('reader', ['orders.read']).fetch(`${api.url}/orders`)).status).toBe(200);
      expect(api.received[0]!.headers.authorization).toMatch(/^Bearer ey/);
      expect(target.received).toHaveLength(1);
      expect(target.received[0]!.headers.authorization).toBeUndefined();
    } finally {
      await api.close();
      await target.close();
    }
  });
});

/** An API that refuses every token as invalid_token. */
function alwaysInvalidApi(): Promise<ScriptedServer> {
  return scriptedServer([
    (_req, res) =>
      res
        .writeHead(401, { 'www-authenticate': 'Bearer realm="api", error="invalid_token", error_description="token revoked"' })
        .end(),
  ]);
}
