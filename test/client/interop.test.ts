/**
 * Interop with an issuer we did not write: oauth2-mock-server (npm) issues the tokens, our client
 * fetches and caches them, and our middleware verifies them, by JWKS URL and by discovery.
 */
import { OAuth2Server } from 'oauth2-mock-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createClientCredentials, TokenRequestError, type ClientCredentialsOptions } from 'cyberark-bearer/client';
import { createApp } from '../../example-server/app.js';
import { listen, type Listening } from '../support/http.js';
import { silent } from '../support/logger.js';

let mock: OAuth2Server;
let issuerUrl: string;
let tokenResponses = 0;
const apis: Listening[] = [];

beforeAll(async () => {
  mock = new OAuth2Server();
  await mock.issuer.keys.generate('RS256');
  await mock.start(0, '127.0.0.1');
  // It would name itself http://localhost:<port>; keep every request on 127.0.0.1.
  issuerUrl = `http://127.0.0.1:${mock.address().port}`;
  mock.issuer.url = issuerUrl;
  // It sets no audience for client credentials: add one per client, as an authorization server would.
  mock.service.on('beforeTokenSigning', (token, req) => {
    const clientId = (req.body as { client_id?: string }).client_id ?? 'basic-client';
    token.payload.aud = clientId === 'elsewhere' ? 'another-api' : 'orders-api';
    token.payload.client_id = clientId;
  });
  mock.service.on('beforeResponse', (response, req) => {
    tokenResponses++;
    if ((req.body as { client_id?: string }).client_id === 'denied') {
      response.statusCode = 400;
      response.body = { error: 'invalid_scope', error_description: 'scope not granted to this client' };
    }
  });
});

afterAll(async () => {
  await Promise.all(apis.map((api) => api.close()));
  await mock.stop();
});

const client = (clientId: string, extra: ClientCredentialsOptions = {}) =>
  createClientCredentials({
    tokenUrl: `${issuerUrl}/token`,
    clientId,
    clientSecret: 'interop-secret',
    scope: 'orders.read orders.write',
    logger: silent,
    env: {},
    ...extra,
  });

async function ordersApi(options: BearerAuthOptions): Promise<string> {
  const auth = createBearerAuth({ audience: 'orders-api', logger: silent, ...options });
  await auth.ready();
  const api = await listen(createApp(auth, silent));
  apis.push(api);
  return api.url;
}

describe('with oauth2-mock-server as the issuer', () => {
  it('the client gets its tokens and reuses them: 20 calls, one token request', async () => {
    const orders = client('reporting');
    const before = tokenResponses;
    const token = await orders.getAccessToken();
    expect(token.scopes).toEqual(['orders.read', 'orders.write']);
    expect(token.expiresAt).toBeGreaterThan(Date.now() / 1000 + 3000);
    for (let i = 0; i < 20; i++) expect(await orders.getToken()).toBe(token.token);
    expect(tokenResponses - before).toBe(1);
  });

  it('the client authenticates with HTTP Basic too', async () => {
    await expect(client('basic-client', { authMethod: 'basic' }).getToken()).resolves.toMatch(/^ey/);
  });

  it('the middleware verifies its tokens, configured with issuer and JWKS URL', async () => {
    const api = await ordersApi({ issuer: issuerUrl, jwksUri: `${issuerUrl}/jwks` });
    const orders = client('reporting');
    const list = await orders.fetch(`${api}/orders`);
    expect(list.status).toBe(200);
    const created = await orders.fetch(`${api}/orders`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"item":"bolt"}',
    });
    expect(created.status).toBe(201);
    expect(await created.json()).toMatchObject({ item: 'bolt', createdBy: 'reporting' });
  });

  it('the middleware finds its keys by OpenID discovery', async () => {
    const api = await ordersApi({ issuer: issuerUrl });
    const res = await client('reporting').fetch(`${api}/whoami`);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ clientId: 'reporting', scopes: ['orders.read', 'orders.write'], issuer: issuerUrl });
  });

  it('the middleware refuses its tokens meant for another audience', async () => {
    const api = await ordersApi({ issuer: issuerUrl, jwksUri: `${issuerUrl}/jwks` });
    const res = await client('elsewhere').fetch(`${api}/orders`);
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toContain('error_description="unexpected audience"');
  });

  it('the client reports its OAuth errors at once', async () => {
    const before = tokenResponses;
    const error = await client('denied')
      .getToken()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ status: 400, error: 'invalid_scope', errorDescription: 'scope not granted to this client' });
    expect(tokenResponses - before).toBe(1);
  });
});
