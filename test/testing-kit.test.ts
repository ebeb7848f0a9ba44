/**
 * The test kit's issuer speaks CyberArk's endpoints over real HTTP: client credentials (form
 * body or HTTP Basic) with RFC 6749 errors, the JWKS, discovery, minting and faults.
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { silent } from './support/logger.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({
    appId: 'orders-api',
    audience: 'orders-audience',
    clients: [
      {
        clientId: 'svc-reporting@cyberark.cloud.1234',
        clientSecret: 'p@ss word',
        scopes: ['orders.read', 'orders.write'],
        claims: { team: 'finance' },
      },
    ],
  });
});
afterAll(() => issuer.close());

const form = (fields: Record<string, string>) => new URLSearchParams(fields);
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${encodeURIComponent(id)}:${encodeURIComponent(secret)}`).toString('base64')}`;

async function tokenRequest(body: URLSearchParams | string, headers: Record<string, string> = {}) {
  const res = await fetch(issuer.tokenUrl, {
    method: 'POST',
    body,
    headers: typeof body === 'string' ? headers : { 'content-type': 'application/x-www-form-urlencoded', ...headers },
  });
  return { status: res.status, headers: res.headers, body: (await res.json()) as Record<string, unknown> };
}

describe('token endpoint (client credentials)', () => {
  it('issues a CyberArk-shaped token for form-body client authentication', async () => {
    const res = await tokenRequest(
      form({
        grant_type: 'client_credentials',
        client_id: 'svc-reporting@cyberark.cloud.1234',
        client_secret: 'p@ss word',
        scope: 'orders.read',
      }),
    );
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'orders.read' });
    const claims = decodeJwt(res.body.access_token as string);
    expect(claims).toMatchObject({
      iss: `${issuer.url}/orders-api/`,
      aud: 'orders-audience',
      unique_name: 'svc-reporting@cyberark.cloud.1234',
      app_id: 'orders-api',
      scope: 'orders.read',
      team: 'finance',
    });
    expect(claims.sub).toMatch(/^[0-9a-f-]{36}$/);
    expect(claims.exp! - claims.iat!).toBe(3600);
    expect(decodeProtectedHeader(res.body.access_token as string)).toEqual({ alg: 'RS256', kid: issuer.kid, typ: 'JWT' });
  });

  it('accepts HTTP Basic client authentication and grants all allowed scopes when none is asked', async () => {
    const res = await tokenRequest(form({ grant_type: 'client_credentials' }), {
      authorization: basic('svc-reporting@cyberark.cloud.1234', 'p@ss word'),
    });
    expect(res.status).toBe(200);
    expect(res.body.scope).toBe('orders.read orders.write');
  });

  it('issues tokens that the middleware accepts', async () => {
    const res = await tokenRequest(
      form({ grant_type: 'client_credentials', client_id: 'svc-reporting@cyberark.cloud.1234', client_secret: 'p@ss word' }),
    );
    const auth = createBearerAuth({ ...issuer.options, logger: silent });
    const verified = await auth.verify(res.body.access_token as string);
    expect(verified.clientId).toBe('svc-reporting@cyberark.cloud.1234');
    expect(verified.scopes).toEqual(['orders.read', 'orders.write']);
  });

  it.each<[string, URLSearchParams, Record<string, string>, number, string]>([
    [
      'a wrong secret',
      form({ grant_type: 'client_credentials', client_id: 'svc-reporting@cyberark.cloud.1234', client_secret: 'nope' }),
      {},
      401,
      'invalid_client',
    ],
    [
      'an unknown client',
      form({ grant_type: 'client_credentials', client_id: 'who', client_secret: 'x' }),
      {},
      401,
      'invalid_client',
    ],
    ['no client authentication', form({ grant_type: 'client_credentials' }), {}, 401, 'invalid_client'],
    [
      'a missing grant_type',
      form({ client_id: 'svc-reporting@cyberark.cloud.1234', client_secret: 'p@ss word' }),
      {},
      400,
      'invalid_request',
    ],
    [
      'another grant type',
      form({ grant_type: 'password', client_id: 'svc-reporting@cyberark.cloud.1234', client_secret: 'p@ss word' }),
      {},
      400,
      'unsupported_grant_type',
    ],
    [
      'a scope the client may not have',
      form({
        grant_type: 'client_credentials',
        client_id: 'svc-reporting@cyberark.cloud.1234',
        client_secret: 'p@ss word',
        scope: 'orders.read admin',
      }),
      {},
      400,
      'invalid_scope',
    ],
    [
      'two authentication methods',
      form({ grant_type: 'client_credentials', client_secret: 'p@ss word' }),
      { authorization: basic('svc-reporting@cyberark.cloud.1234', 'p@ss word') },
      400,
      'invalid_request',
    ],
  ])('answers %s with the RFC 6749 error', async (_case, body, headers, status, error) => {
    const res = await tokenRequest(body, headers);
    expect(res.status).toBe(status);
    expect(res.body.error).toBe(error);
    expect(typeof res.body.error_description).toBe('string');
    expect(res.body.access_token).toBeUndefined();
  });

  it('challenges a failed Basic authentication with WWW-Authenticate', async () => {
    const res = await tokenRequest(form({ grant_type: 'client_credentials' }), {
      authorization: basic('svc-reporting@cyberark.cloud.1234', 'wrong'),
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="orders-api"');
  });

  it('refuses a body that is not form-encoded', async () => {
    const res = await tokenRequest('{"grant_type":"client_credentials"}', { 'content-type': 'application/json' });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('serves the token endpoint path in any case, as CyberArk does', async () => {
    const res = await fetch(issuer.tokenUrl.replace('/oauth2/', '/OAuth2/'), {
      method: 'POST',
      body: form({
        grant_type: 'client_credentials',
        client_id: 'svc-reporting@cyberark.cloud.1234',
        client_secret: 'p@ss word',
      }),
    });
    expect(res.status).toBe(200);
  });
});

describe('JWKS, discovery and faults', () => {
  it('publishes the public signing key only', async () => {
    const res = await fetch(issuer.jwksUri);
    const body = (await res.json()) as { keys: Array<Record<string, unknown>> };
    expect(body.keys).toHaveLength(1);
    expect(body.keys[0]).toMatchObject({ kty: 'RSA', kid: issuer.kid, use: 'sig', alg: 'RS256', e: 'AQAB' });
    expect(Object.keys(body.keys[0]!).sort()).toEqual(['alg', 'e', 'kid', 'kty', 'n', 'use']);
  });

  it('serves discovery metadata for the app', async () => {
    const body = (await (await fetch(issuer.discoveryUrl)).json()) as Record<string, unknown>;
    expect(body).toMatchObject({ issuer: issuer.issuer, jwks_uri: issuer.jwksUri, token_endpoint: issuer.tokenUrl });
  });

  it('counts JWKS fetches, faulty ones included, and resets', async () => {
    issuer.resetCounters();
    await fetch(issuer.jwksUri);
    issuer.setFault('jwks', 'error');
    expect((await fetch(issuer.jwksUri)).status).toBe(500);
    issuer.setFault('jwks', 'garbage');
    expect(await (await fetch(issuer.jwksUri)).text()).toMatch(/^<html>/);
    issuer.setFault('jwks', 'down');
    await expect(fetch(issuer.jwksUri)).rejects.toThrow();
    issuer.setFault('jwks', null);
    expect(issuer.jwksFetches).toBe(4);
    issuer.resetCounters();
    expect(issuer.jwksFetches).toBe(0);
  });

  it('fails the token endpoint on demand', async () => {
    issuer.setFault('token', 'error');
    const res = await tokenRequest(
      form({ grant_type: 'client_credentials', client_id: 'svc-reporting@cyberark.cloud.1234', client_secret: 'p@ss word' }),
    );
    issuer.setFault('token', null);
    expect(res.status).toBe(500);
  });

  it('answers late in slow mode', async () => {
    issuer.setFault('jwks', 'slow', { delayMs: 300 });
    const started = Date.now();
    const res = await fetch(issuer.jwksUri);
    issuer.setFault('jwks', null);
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });
});

describe('mint', () => {
  it('removes claims and header parameters set to undefined', () => {
    const token = issuer.mint({ exp: undefined, sub: undefined }, { typ: undefined });
    expect(decodeJwt(token).exp).toBeUndefined();
    expect(decodeJwt(token).sub).toBeUndefined();
    expect(decodeProtectedHeader(token).typ).toBeUndefined();
  });

  it('mints unsigned tokens with alg none', () => {
    const token = issuer.mint({}, { alg: 'none' });
    expect(token.endsWith('.')).toBe(true);
  });

  it('signs with a given key, e.g. an EC key for ES256', async () => {
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const token = issuer.mint({}, { alg: 'ES256' }, { key: privateKey });
    const auth = createBearerAuth({ ...issuer.options, logger: silent });
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'algorithm_not_allowed' });
  });

  it('rotates keys, keeping or dropping the previous one', () => {
    const first = issuer.kid;
    const second = issuer.rotateKey();
    expect(issuer.kids).toEqual([first, second]);
    const third = issuer.rotateKey({ keepPrevious: false });
    expect(issuer.kids).toEqual([first, third]);
    issuer.removeKey(first);
    expect(issuer.kids).toEqual([third]);
    expect(decodeProtectedHeader(issuer.mint()).kid).toBe(third);
  });
});
