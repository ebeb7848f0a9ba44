/**
 * The test kit's issuer issues opaque tokens and answers RFC 7662 introspection and revocation at
 * CyberArk's paths, over real HTTP: HTTP Basic client authentication, revoked tokens and disabled
 * clients, JWTs it signed, faults and counters.
 */
import { generateKeyPairSync, randomUUID } from 'node:crypto';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createTestIssuer, randomSecret, type Fault, type TestIssuer } from 'cyberark-bearer/testing';

const REPORTING = {
  clientId: 'svc-reporting@cyberark.cloud.1234',
  clientSecret: 'p@ss word+%41',
  scopes: ['orders.read', 'orders.write'],
  subject: '0a1b2c3d-1111-2222-3333-444455556666',
  claims: { team: 'finance' },
};
/** The resource server's own service user, which asks whether tokens are active. */
const ORDERS_API = { clientId: 'svc-orders-api@cyberark.cloud.1234', clientSecret: randomSecret() };

const OPTIONS = { appId: 'orders-api', audience: 'orders-audience', clients: [REPORTING, ORDERS_API] };
let opaque: TestIssuer;
let jwt: TestIssuer;
beforeAll(async () => {
  opaque = await createTestIssuer({ ...OPTIONS, tokenType: 'opaque' });
  jwt = await createTestIssuer(OPTIONS);
});
afterAll(async () => {
  await opaque.close();
  await jwt.close();
});
afterEach(() => vi.useRealTimers());

/**
 * A JWT is known by its string, and two with the same claims minted in the same second are the
 * same string: tests that revoke or disable get issuers of their own.
 */
async function withIssuers(run: (issuers: { opaque: TestIssuer; jwt: TestIssuer }) => Promise<void>): Promise<void> {
  const issuers = { opaque: await createTestIssuer({ ...OPTIONS, tokenType: 'opaque' }), jwt: await createTestIssuer(OPTIONS) };
  try {
    await run(issuers);
  } finally {
    await issuers.opaque.close();
    await issuers.jwt.close();
  }
}

/** RFC 6749 §2.3.1: id and secret form-urlencoded, then Base64. */
const basic = (id: string, secret: string) =>
  `Basic ${Buffer.from(`${new URLSearchParams({ a: id }).toString().slice(2)}:${new URLSearchParams({ a: secret }).toString().slice(2)}`).toString('base64')}`;
const RS_AUTH = basic(ORDERS_API.clientId, ORDERS_API.clientSecret);
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };

interface Answer {
  status: number;
  headers: Headers;
  body: Record<string, unknown>;
}

async function post(url: string, body: string | URLSearchParams, headers: Record<string, string>): Promise<Answer> {
  const res = await fetch(url, { method: 'POST', body, headers: { ...FORM, ...headers } });
  const text = await res.text();
  return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
}

const introspect = (issuer: TestIssuer, token: string, headers: Record<string, string> = { authorization: RS_AUTH }) =>
  post(issuer.introspectionUrl, new URLSearchParams({ token }), headers);
const revokeAt = (issuer: TestIssuer, token: string, headers: Record<string, string> = { authorization: RS_AUTH }) =>
  post(issuer.revocationUrl, new URLSearchParams({ token }), headers);

async function issue(issuer: TestIssuer, scope = 'orders.read'): Promise<string> {
  const res = await post(issuer.tokenUrl, new URLSearchParams({ grant_type: 'client_credentials', scope }), {
    authorization: basic(REPORTING.clientId, REPORTING.clientSecret),
  });
  expect(res.status).toBe(200);
  return res.body.access_token as string;
}

async function expectActive(issuer: TestIssuer, token: string, active: boolean): Promise<void> {
  const res = await introspect(issuer, token);
  expect(res.status).toBe(200);
  if (active) expect(res.body.active).toBe(true);
  else expect(res.body).toEqual({ active: false });
}

describe('opaque tokens', () => {
  it('are issued at the token endpoint with tokenType opaque: random base64url, never JWS-shaped', async () => {
    const res = await post(opaque.tokenUrl, new URLSearchParams({ grant_type: 'client_credentials', scope: 'orders.read' }), {
      authorization: basic(REPORTING.clientId, REPORTING.clientSecret),
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ token_type: 'Bearer', expires_in: 3600, scope: 'orders.read' });
    const token = res.body.access_token as string;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    expect(await issue(opaque)).not.toBe(token);
  });

  it('introspect as active with the RFC 7662 members and the token claims', async () => {
    const before = Math.floor(Date.now() / 1000);
    const token = await issue(opaque);
    const res = await introspect(opaque, token);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/json/);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { iat, exp, ...rest } = res.body as { iat: number; exp: number };
    expect(rest).toEqual({
      active: true,
      scope: 'orders.read',
      client_id: REPORTING.clientId,
      username: REPORTING.clientId,
      token_type: 'Bearer',
      sub: REPORTING.subject,
      aud: 'orders-audience',
      iss: `${opaque.url}/orders-api/`,
      unique_name: REPORTING.clientId,
      app_id: 'orders-api',
      team: 'finance',
    });
    expect(iat).toBeGreaterThanOrEqual(before);
    expect(exp - iat).toBe(3600);
  });

  it('are minted with mintOpaque(), claims defaulted as by mint(); the default tokenType stays jwt', async () => {
    const token = jwt.mintOpaque({ scope: 'orders.write', aud: 'billing-api', app_id: undefined });
    expect(token).toMatch(/^[A-Za-z0-9_-]{43,}$/);
    const res = await introspect(jwt, token);
    expect(res.body).toMatchObject({
      active: true,
      scope: 'orders.write',
      aud: 'billing-api',
      iss: jwt.issuer,
      client_id: 'test-client@cyberark.cloud.0000',
      username: 'test-client@cyberark.cloud.0000',
      token_type: 'Bearer',
    });
    expect(res.body.app_id).toBeUndefined();
    expect((await issue(jwt)).split('.')).toHaveLength(3);
  });

  it('can take a given token string, so that other formats can be tested', async () => {
    const token = opaque.mintOpaque({ scope: 'orders.read' }, { token: 'AbC~12.3+/=' });
    expect(token).toBe('AbC~12.3+/=');
    await expectActive(opaque, token, true);
  });

  it('introspect as {"active": false} when unknown or expired, by the issuer clock', async () => {
    await expectActive(opaque, 'not-a-token-this-issuer-knows-000000000000000', false);
    const now = Math.floor(Date.now() / 1000);
    await expectActive(opaque, opaque.mintOpaque({ iat: now - 7200, exp: now - 3600 }), false);
    await expectActive(opaque, opaque.mintOpaque({ nbf: now + 3600 }), false);

    vi.useFakeTimers({ toFake: ['Date'] });
    const token = await issue(opaque);
    await expectActive(opaque, token, true);
    vi.setSystemTime(Date.now() + 3600_000);
    await expectActive(opaque, token, false);
  });
});

describe('JWT introspection', () => {
  it('answers active for a JWT the kit signed, with the same members as for an opaque token', async () => {
    const token = await issue(jwt, 'orders.read orders.write');
    const res = await introspect(jwt, token);
    expect(res.body).toMatchObject({
      active: true,
      scope: 'orders.read orders.write',
      client_id: REPORTING.clientId,
      username: REPORTING.clientId,
      token_type: 'Bearer',
      sub: REPORTING.subject,
      aud: 'orders-audience',
      iss: jwt.issuer,
      team: 'finance',
    });
    expect(typeof res.body.exp).toBe('number');
  });

  it('answers active for JWTs of the previous key while it is published, inactive once removed', async () => {
    const issuer = await createTestIssuer({ clients: [ORDERS_API] });
    try {
      const old = issuer.mint();
      const oldKid = issuer.kid;
      issuer.rotateKey();
      await expectActive(issuer, old, true);
      issuer.removeKey(oldKid);
      await expectActive(issuer, old, false);
      await expectActive(issuer, issuer.mint(), true);
    } finally {
      await issuer.close();
    }
  });

  it.each<[string, (issuer: TestIssuer) => string]>([
    ['expired', (i) => i.mint({ iat: 1_000, exp: 2_000 })],
    ['not yet valid', (i) => i.mint({ nbf: Math.floor(Date.now() / 1000) + 3600 })],
    ['unsigned (alg none)', (i) => i.mint({}, { alg: 'none' })],
    ['signed by another key', (i) => i.mint({}, {}, { key: generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey })],
    ['HS256 with the key id', (i) => i.mint({}, { alg: 'HS256' }, { key: 'shared' })],
    [
      'tampered',
      (i) => i.mint({ scope: 'orders.read' }).replace(/\.[^.]+\./, `.${Buffer.from('{"scope":"admin"}').toString('base64url')}.`),
    ],
  ])('answers {"active": false} for a JWT that is %s', async (_case, make) => {
    await expectActive(jwt, make(jwt), false);
  });
});

describe('revocation', () => {
  it('POST /oauth2/revoke/<appId> with Basic makes opaque tokens and JWTs inactive', async () => {
    await withIssuers(async ({ opaque, jwt }) => {
      for (const issuer of [opaque, jwt]) {
        const token = await issue(issuer);
        const other = await issue(issuer, 'orders.write');
        await expectActive(issuer, token, true);
        const res = await revokeAt(issuer, token);
        expect(res.status).toBe(200);
        expect(res.headers.get('content-length')).toBe('0');
        await expectActive(issuer, token, false);
        await expectActive(issuer, other, true);
      }
    });
  });

  it('answers 200 for an unknown token, as CyberArk documents', async () => {
    const res = await revokeAt(opaque, 'never-issued');
    expect(res.status).toBe(200);
  });

  it('requires HTTP Basic client authentication', async () => {
    const token = await issue(opaque);
    for (const headers of [{}, { authorization: basic(ORDERS_API.clientId, 'wrong') }]) {
      const res = await revokeAt(opaque, token, headers);
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    }
    await expectActive(opaque, token, true);
  });

  it('issuer.revoke(token) revokes without a request', async () => {
    const token = jwt.mint({ jti: randomUUID() });
    const stranger = jwt.mintOpaque();
    jwt.revoke(token);
    jwt.revoke(stranger);
    jwt.revoke('never-issued');
    await expectActive(jwt, token, false);
    await expectActive(jwt, stranger, false);
  });

  it('is served at the path in any letter case', async () => {
    const token = opaque.mintOpaque();
    const res = await post(opaque.revocationUrl.replace('/oauth2/revoke/', '/OAuth2/Revoke/'), new URLSearchParams({ token }), {
      authorization: RS_AUTH,
    });
    expect(res.status).toBe(200);
    await expectActive(opaque, token, false);
  });
});

describe('disabled clients', () => {
  it('are refused at the token endpoint, and their tokens introspect inactive until enabled again', async () => {
    await withIssuers(async ({ opaque, jwt }) => {
      const opaqueToken = await issue(opaque);
      const jwtToken = await issue(jwt);
      const minted = jwt.mint({ unique_name: REPORTING.clientId });
      opaque.disableClient(REPORTING.clientId);
      jwt.disableClient(REPORTING.clientId);
      const res = await post(opaque.tokenUrl, new URLSearchParams({ grant_type: 'client_credentials' }), {
        authorization: basic(REPORTING.clientId, REPORTING.clientSecret),
      });
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
      expect(res.body.access_token).toBeUndefined();
      await expectActive(opaque, opaqueToken, false);
      await expectActive(jwt, jwtToken, false);
      await expectActive(jwt, minted, false);
      await expectActive(jwt, jwt.mint(), true);

      opaque.enableClient(REPORTING.clientId);
      jwt.enableClient(REPORTING.clientId);
      await expectActive(opaque, opaqueToken, true);
      await expectActive(jwt, jwtToken, true);
      await issue(opaque);
    });
  });

  it('cannot introspect', async () => {
    opaque.disableClient(ORDERS_API.clientId);
    try {
      const res = await introspect(opaque, opaque.mintOpaque());
      expect(res.status).toBe(401);
      expect(res.body.error).toBe('invalid_client');
    } finally {
      opaque.enableClient(ORDERS_API.clientId);
    }
  });
});

describe('introspection request', () => {
  it.each<[string, Record<string, string>]>([
    ['no client authentication', {}],
    ['a wrong secret', { authorization: basic(ORDERS_API.clientId, 'wrong') }],
    ['an unknown client', { authorization: basic('nobody', 'x') }],
    [
      'Basic credentials not form-encoded first',
      { authorization: `Basic ${Buffer.from(`${REPORTING.clientId}:${REPORTING.clientSecret}`).toString('base64')}` },
    ],
    ['malformed Basic credentials', { authorization: `Basic ${Buffer.from('no-colon').toString('base64')}` }],
    ['a Bearer token', { authorization: 'Bearer abc' }],
  ])('refuses %s with 401 invalid_client and a Basic challenge', async (_case, headers) => {
    const res = await introspect(opaque, opaque.mintOpaque(), headers);
    expect(res.status).toBe(401);
    expect(res.body).toMatchObject({ error: 'invalid_client' });
    expect(res.body.active).toBeUndefined();
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="orders-api"');
  });

  it('refuses client credentials in the body (client_secret_post) with 401 invalid_client', async () => {
    const body = new URLSearchParams({
      token: opaque.mintOpaque(),
      client_id: ORDERS_API.clientId,
      client_secret: ORDERS_API.clientSecret,
    });
    const res = await post(opaque.introspectionUrl, body, {});
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_client');
    const both = await post(opaque.introspectionUrl, body, { authorization: RS_AUTH });
    expect(both.status).toBe(401);
  });

  it('accepts any registered client, Basic with the secret form-encoded, and ignores token_type_hint', async () => {
    const token = opaque.mintOpaque();
    const res = await post(opaque.introspectionUrl, new URLSearchParams({ token, token_type_hint: 'refresh_token' }), {
      authorization: basic(REPORTING.clientId, REPORTING.clientSecret),
    });
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(true);
  });

  it.each<[string, string | URLSearchParams, Record<string, string>]>([
    ['no token', new URLSearchParams({ token_type_hint: 'access_token' }), {}],
    ['a repeated token', 'token=a&token=b', {}],
    ['a JSON body', '{"token":"a"}', { 'content-type': 'application/json' }],
  ])('answers %s with 400 invalid_request', async (_case, body, headers) => {
    const res = await post(opaque.introspectionUrl, body, { authorization: RS_AUTH, ...headers });
    expect(res.status).toBe(400);
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers another method with 405', async () => {
    const res = await fetch(opaque.introspectionUrl, { headers: { authorization: RS_AUTH } });
    expect(res.status).toBe(405);
    expect(res.headers.get('allow')).toBe('POST');
  });

  it('is served at /OAuth2/Introspect/<appId> in any letter case', async () => {
    expect(opaque.introspectionUrl).toBe(`${opaque.url}/OAuth2/Introspect/orders-api`);
    expect(opaque.revocationUrl).toBe(`${opaque.url}/oauth2/revoke/orders-api`);
    const res = await post(`${opaque.url}/oauth2/introspect/ORDERS-API`, new URLSearchParams({ token: opaque.mintOpaque() }), {
      authorization: RS_AUTH,
    });
    expect(res.body.active).toBe(true);
  });

  it('is named by both metadata documents', async () => {
    for (const url of [opaque.discoveryUrl, opaque.authorizationServerMetadataUrl]) {
      const metadata = (await (await fetch(url)).json()) as Record<string, unknown>;
      expect(metadata).toMatchObject({
        introspection_endpoint: opaque.introspectionUrl,
        introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
        revocation_endpoint: opaque.revocationUrl,
        revocation_endpoint_auth_methods_supported: ['client_secret_basic'],
      });
    }
  });
});

describe('counters and faults', () => {
  it('counts introspection and revocation requests, faulty and refused ones included, and resets', async () => {
    const issuer = await createTestIssuer({ clients: [ORDERS_API] });
    try {
      const token = issuer.mintOpaque();
      await introspect(issuer, token);
      await introspect(issuer, token, {});
      issuer.setFault('introspect', 'error');
      await introspect(issuer, token);
      await revokeAt(issuer, token);
      expect([issuer.introspections, issuer.revocations, issuer.tokenRequests]).toEqual([3, 1, 0]);
      issuer.resetCounters();
      expect([issuer.introspections, issuer.revocations]).toEqual([0, 0]);
    } finally {
      await issuer.close();
    }
  });

  it('tracks introspections in flight and their peak', async () => {
    const issuer = await createTestIssuer({ clients: [ORDERS_API] });
    try {
      issuer.setFault('introspect', 'hang');
      const abort = new AbortController();
      const calls = Array.from({ length: 3 }, () =>
        fetch(issuer.introspectionUrl, {
          method: 'POST',
          body: new URLSearchParams({ token: 'x' }),
          headers: { authorization: RS_AUTH },
          signal: abort.signal,
        }).catch(() => 'aborted'),
      );
      await vi.waitFor(() => expect(issuer.introspections).toBe(3));
      expect(issuer.introspectionsInFlight).toBe(3);
      abort.abort();
      expect(await Promise.all(calls)).toEqual(['aborted', 'aborted', 'aborted']);
      await vi.waitFor(() => expect(issuer.introspectionsInFlight).toBe(0));
      expect(issuer.maxIntrospectionsInFlight).toBe(3);
      issuer.setFault('introspect', null);
      await expectActive(issuer, issuer.mintOpaque(), true);
      expect(issuer.maxIntrospectionsInFlight).toBe(3);
      issuer.resetCounters();
      expect(issuer.maxIntrospectionsInFlight).toBe(0);
    } finally {
      await issuer.close();
    }
  });

  it.each<[Fault, (res: Response) => Promise<void>]>([
    [
      'error',
      async (res) => {
        expect(res.status).toBe(500);
        expect(await res.json()).toEqual({ error: 'server_error' });
      },
    ],
    [
      'garbage',
      async (res) => {
        expect(res.status).toBe(200);
        expect(res.headers.get('content-type')).toBe('text/html');
        expect(await res.text()).toMatch(/^<html>/);
      },
    ],
    [
      'empty',
      async (res) => {
        expect(res.status).toBe(200);
        expect(await res.json()).toEqual({});
      },
    ],
    [
      'huge',
      async (res) => {
        expect(res.status).toBe(200);
        const text = await res.text();
        expect(text.length).toBeGreaterThan(4_000_000);
        expect(JSON.parse(text)).toMatchObject({ active: true, client_id: 'test-client@cyberark.cloud.0000' });
      },
    ],
  ])('answers %s on demand', async (fault, check) => {
    opaque.setFault('introspect', fault);
    try {
      const res = await fetch(opaque.introspectionUrl, {
        method: 'POST',
        body: new URLSearchParams({ token: opaque.mintOpaque() }),
        headers: { authorization: RS_AUTH },
      });
      await check(res);
    } finally {
      opaque.setFault('introspect', null);
    }
  });

  it('drops the connection when down, answers late when slow', async () => {
    const token = opaque.mintOpaque();
    opaque.setFault('introspect', 'down');
    await expect(introspect(opaque, token)).rejects.toThrow();
    opaque.setFault('introspect', 'slow', { delayMs: 300 });
    const started = Date.now();
    const res = await introspect(opaque, token);
    opaque.setFault('introspect', null);
    expect(res.body.active).toBe(true);
    expect(Date.now() - started).toBeGreaterThanOrEqual(250);
  });

  it('faults revocation separately', async () => {
    const token = opaque.mintOpaque();
    opaque.setFault('revoke', 'error');
    try {
      expect((await revokeAt(opaque, token)).status).toBe(500);
      await expectActive(opaque, token, true);
    } finally {
      opaque.setFault('revoke', null);
    }
  });
});

it('refuses an unknown tokenType', async () => {
  await expect(createTestIssuer({ tokenType: 'reference' as 'opaque' })).rejects.toThrow(/tokenType/);
});
