/**
 * RFC 9728 for an API that declares its `resource`: `auth.protectedResource()` serves the metadata
 * at both well-known URLs under Express 4 and 5, and every challenge names it, with the route's
 * scopes on a 401, as MCP asks. Without `resource`, the answers stay byte for byte what they were.
 */
import type { ServerResponse } from 'node:http';
import express5, { type ErrorRequestHandler } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OAuthProtectedResourceMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import {
  BearerError,
  createBearerAuth,
  InvalidTokenError,
  sendRefusal,
  type BearerAuth,
  type BearerAuthOptions,
  type ProtectedResourceOptions,
} from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { EXPRESS_VERSIONS, type ExpressFactory } from './support/apps.js';
import { configError } from './support/config.js';
import { silent } from './support/logger.js';

const RESOURCE = 'https://api.example.com/mcp';
const METADATA_URL = 'https://api.example.com/.well-known/oauth-protected-resource/mcp';
const INSERTED = '/.well-known/oauth-protected-resource/mcp';
const ROOT = '/.well-known/oauth-protected-resource';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api', audience: RESOURCE });
});
afterAll(() => issuer.close());

const trust = (extra: BearerAuthOptions = {}): BearerAuth =>
  createBearerAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, logger: silent, env: {}, resource: RESOURCE, ...extra });

/** An app as a user builds it: the metadata (unless `false`), guarded routes, and a 404 for the rest. */
function appWith(auth: BearerAuth, express: ExpressFactory = express5, metadata?: ProtectedResourceOptions | false) {
  const app = express();
  if (metadata !== false) app.use(auth.protectedResource(metadata));
  app.post('/mcp', auth.requireToken('orders.read'), (_req, res) => res.json({ ok: true }));
  app.get('/orders', auth.requireToken(['orders.read', 'orders.write']), (_req, res) => res.json({ ok: true }));
  app.get('/reports', auth.requireToken({ anyOf: ['reports.read', 'admin'] }), (_req, res) => res.json({ ok: true }));
  app.get('/whoami', auth.requireToken(), (_req, res) => res.json({ ok: true }));
  app.use((_req, res) => res.status(404).json({ error: 'not_found' }));
  return app;
}

type App = ReturnType<typeof appWith>;

describe.each(EXPRESS_VERSIONS)('auth.protectedResource() under %s', (_name, express) => {
  let app: App;
  beforeAll(() => {
    app = appWith(trust(), express, { scopesSupported: ['orders.read', 'orders.write'], resourceName: 'Orders' });
  });

  it.each([
    ['the path-inserted URL', INSERTED],
    ['the root URL', ROOT],
    ['a URL with a query string', `${INSERTED}?x=1`],
  ])('serves the document at %s', async (_case, path) => {
    const res = await request(app).get(path).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.headers['cache-control']).toBe('public, max-age=3600');
    expect(res.body).toEqual({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
      scopes_supported: ['orders.read', 'orders.write'],
      resource_name: 'Orders',
    });
    expect(OAuthProtectedResourceMetadataSchema.safeParse(res.body).error).toBeUndefined();
  });

  it('answers HEAD with the headers and no body', async () => {
    const res = await request(app).head(INSERTED).expect(200);
    expect(res.headers['content-type']).toBe('application/json');
    expect(Number(res.headers['content-length'])).toBeGreaterThan(0);
    expect(res.text ?? '').toBe('');
  });

  it('answers a CORS preflight', async () => {
    const res = await request(app)
      .options(INSERTED)
      .set('Origin', 'https://client.example')
      .set('Access-Control-Request-Method', 'GET')
      .set('Access-Control-Request-Headers', 'mcp-protocol-version')
      .expect(204);
    expect(res.headers).toMatchObject({
      'access-control-allow-origin': '*',
      'access-control-allow-methods': 'GET, HEAD, OPTIONS',
      'access-control-allow-headers': '*',
    });
  });

  it('refuses other methods with 405 and Allow', async () => {
    const res = await request(app).post(INSERTED).expect(405);
    expect(res.headers.allow).toBe('GET, HEAD, OPTIONS');
  });

  it('hands every other path on', async () => {
    await request(app).get('/.well-known/oauth-protected-resource/other').expect(404);
    await request(app).get(`${INSERTED}/x`).expect(404);
    await request(app).get('/.well-known/openid-configuration').expect(404);
    await request(app).post('/mcp').expect(401);
  });
});

describe('the metadata document', () => {
  async function documentOf(options: BearerAuthOptions, path = INSERTED, given?: ProtectedResourceOptions) {
    const res = await request(appWith(trust(options), express5, given))
      .get(path)
      .expect(200);
    return res.body as Record<string, unknown>;
  }

  it('lists the bearer methods the configuration accepts', async () => {
    expect((await documentOf({})).bearer_methods_supported).toEqual(['header']);
    expect((await documentOf({ allowBodyToken: true })).bearer_methods_supported).toEqual(['header', 'body']);
    expect((await documentOf({ allowBodyToken: true, allowQueryToken: true })).bearer_methods_supported).toEqual([
      'header',
      'body',
      'query',
    ]);
  });

  it('lists every configured issuer as an authorization server', async () => {
    const other = 'https://xyz9876.id.cyberark.cloud/partner-gw/';
    expect((await documentOf({ issuer: [issuer.issuer, other] })).authorization_servers).toEqual([issuer.issuer, other]);
  });

  it('leaves out what is not given, and says what is', async () => {
    expect(await documentOf({})).toEqual({
      resource: RESOURCE,
      authorization_servers: [issuer.issuer],
      bearer_methods_supported: ['header'],
    });
    const links = {
      resourceDocumentation: 'https://docs.example.com/orders',
      resourcePolicyUri: 'https://example.com/policy',
      resourceTosUri: 'https://example.com/tos#orders',
    };
    expect(await documentOf({}, INSERTED, links)).toMatchObject({
      resource_documentation: links.resourceDocumentation,
      resource_policy_uri: links.resourcePolicyUri,
      resource_tos_uri: links.resourceTosUri,
    });
  });

  it('is served for a resource with a longer path at that path, and for an origin at the root only', async () => {
    const deep = trust({ resource: 'https://api.example.com/v1/mcp' });
    expect(deep.resourceMetadataUrl).toBe('https://api.example.com/.well-known/oauth-protected-resource/v1/mcp');
    const deepApp = appWith(deep);
    expect((await request(deepApp).get(`${ROOT}/v1/mcp`).expect(200)).body).toMatchObject({
      resource: 'https://api.example.com/v1/mcp',
    });
    await request(deepApp).get(`${ROOT}/mcp`).expect(404);

    const origin = trust({ resource: 'https://API.example.com/' });
    expect(origin.resourceMetadataUrl).toBe(`https://api.example.com${ROOT}`);
    expect((await request(appWith(origin)).get(ROOT).expect(200)).body).toMatchObject({ resource: 'https://api.example.com' });
  });
});

describe('protectedResource() configuration errors', () => {
  it('needs the resource option', () => {
    const auth = trust({ resource: undefined, audience: 'orders-api' });
    const error = configError(() => auth.protectedResource());
    expect(error.option).toBe('resource');
    expect(error.message).toMatch(/\(env CYBERARK_RESOURCE\) is required by protectedResource\(\)/);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['an unknown option', { scopes: ['a'] }, 'scopes', /is not an option of protectedResource\(\)/],
    ['options that are no object', 'orders.read', 'options', /must be an object/],
    ['scopesSupported as a string', { scopesSupported: 'orders.read' }, 'scopesSupported', /non-empty array/],
    ['scopesSupported empty', { scopesSupported: [] }, 'scopesSupported', /non-empty array/],
    ['a scope with a space', { scopesSupported: ['orders.read orders.write'] }, 'scopesSupported', /invalid scope/],
    ['a scope with a quote', { scopesSupported: ['a"b'] }, 'scopesSupported', /invalid scope/],
    ['an empty resourceName', { resourceName: ' ' }, 'resourceName', /non-empty string/],
    ['a resourceName with a newline', { resourceName: 'Orders\nAPI' }, 'resourceName', /control characters/],
    ['a relative documentation URL', { resourceDocumentation: '/docs' }, 'resourceDocumentation', /absolute https URL/],
    ['a javascript: policy URL', { resourcePolicyUri: 'javascript:alert(1)' }, 'resourcePolicyUri', /absolute https URL/],
    ['a terms URL that is a number', { resourceTosUri: 7 }, 'resourceTosUri', /absolute https URL, got number/],
  ])('refuses %s', (_case, options, option, message) => {
    const error = configError(() => trust().protectedResource(options as ProtectedResourceOptions));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });
});

/** RFC 7235 challenge: `Bearer` then auth-params, each a token or an RFC 9110 quoted-string. */
const TOKEN = "[!#$%&'*+.^_`|~0-9A-Za-z-]+";
const QUOTED = '"(?:[\\t \\x21\\x23-\\x5B\\x5D-\\x7E]|\\\\[\\t \\x21-\\x7E])*"';
const PARAM = `${TOKEN}=(?:${TOKEN}|${QUOTED})`;
const CHALLENGE = new RegExp(`^Bearer ${PARAM}(?:, ${PARAM})*$`);

/** The params of a challenge known to be well-formed, unquoted. */
function paramsOf(challenge: string): Record<string, string> {
  const params: Record<string, string> = {};
  for (const [, name, value] of challenge.matchAll(/([a-z_]+)="((?:[^"\\]|\\.)*)"/g)) {
    expect(params).not.toHaveProperty(name!);
    params[name!] = value!.replace(/\\(.)/g, '$1');
  }
  return params;
}

describe('challenges once a resource is declared', () => {
  let app: App;
  beforeAll(() => {
    app = appWith(trust());
  });
  const METADATA = `resource_metadata="${METADATA_URL}"`;

  it.each<[string, string, (r: request.Test) => request.Test, number, string]>([
    ['no token, on a route needing a scope', 'post /mcp', (r) => r, 401, `Bearer realm="api", scope="orders.read", ${METADATA}`],
    [
      'a bad token, on a route needing two',
      'get /orders',
      (r) => r.set('Authorization', 'Bearer not-a-jwt'),
      401,
      `Bearer realm="api", error="invalid_token", error_description="token is not a JWT (opaque tokens are not accepted)", scope="orders.read orders.write", ${METADATA}`,
    ],
    [
      'no token, on a route needing any of two',
      'get /reports',
      (r) => r,
      401,
      `Bearer realm="api", scope="reports.read admin", ${METADATA}`,
    ],
    ['no token, on a route needing no scope', 'get /whoami', (r) => r, 401, `Bearer realm="api", ${METADATA}`],
    [
      'a token lacking a scope',
      'get /orders',
      (r) => r.set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read' })}`),
      403,
      `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="orders.read orders.write", ${METADATA}`,
    ],
    [
      'two tokens in one header',
      'post /mcp',
      (r) => r.set('Authorization', 'Bearer a b'),
      400,
      `Bearer realm="api", error="invalid_request", error_description="more than one bearer token in the request", ${METADATA}`,
    ],
    [
      'a token for another audience',
      'post /mcp',
      (r) => r.set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read', aud: 'https://api.example.com/other' })}`),
      401,
      `Bearer realm="api", error="invalid_token", error_description="unexpected audience", scope="orders.read", ${METADATA}`,
    ],
  ])('%s', async (_case, route, send, status, challenge) => {
    const [method, path] = route.split(' ') as ['get' | 'post', string];
    const res = await send(request(app)[method](path)).expect(status);
    expect(res.headers['www-authenticate']).toBe(challenge);
    expect(res.headers['www-authenticate']).toMatch(CHALLENGE);
    expect(paramsOf(challenge).resource_metadata).toBe(METADATA_URL);
  });

  it('has none on a 503, where no token is at fault', async () => {
    const down = await createTestIssuer({ appId: 'down', audience: RESOURCE });
    down.setFault('jwks', 'error');
    try {
      const auth = createBearerAuth({ ...down.options, audience: undefined, resource: RESOURCE, logger: silent, env: {} });
      const res = await request(appWith(auth))
        .post('/mcp')
        .set('Authorization', `Bearer ${down.mint({ scope: 'orders.read' })}`)
        .expect(503);
      expect(res.headers['www-authenticate']).toBeUndefined();
    } finally {
      await down.close();
    }
  });

  it('are in err.headers with onError: next, and from authenticate()', async () => {
    const auth = trust({ onError: 'next', realm: 'orders' });
    const app = express5();
    app.post('/mcp', auth.requireToken('orders.read'), (_req, res) => res.json({ ok: true }));
    const onError: ErrorRequestHandler = (error: BearerError, _req, res, _next) => {
      res.status(error.status).set(error.headers).json(error.body);
    };
    app.use(onError);
    const res = await request(app).post('/mcp').expect(401);
    expect(res.headers['www-authenticate']).toBe(`Bearer realm="orders", scope="orders.read", ${METADATA}`);

    const refusal = await auth.authenticate({ headers: {} }, 'orders.write').catch((e: unknown) => e);
    expect((refusal as BearerError).headers['WWW-Authenticate']).toBe(`Bearer realm="orders", scope="orders.write", ${METADATA}`);
  });

  it('are written by sendRefusal() from an error authenticate() threw', async () => {
    const auth = trust();
    const error = (await auth
      .authenticate({ headers: { authorization: 'Bearer x.y.z' } }, 'a')
      .catch((e: unknown) => e)) as BearerError;
    const headers: Record<string, unknown> = {};
    const res = {
      headersSent: false,
      setHeader: (n: string, v: unknown) => (headers[n] = v),
      end() {},
    } as unknown as ServerResponse;
    sendRefusal(res, error, 'api');
    expect(headers['WWW-Authenticate']).toBe(
      `Bearer realm="api", error="invalid_token", error_description="malformed token", scope="a", ${METADATA}`,
    );
  });

  it('escapes a quote or backslash in resource_metadata as a quoted-pair', () => {
    const challenge = new InvalidTokenError('malformed_token').challenge('api', { resourceMetadata: 'https://x/"a\\b' });
    expect(challenge).toBe(
      'Bearer realm="api", error="invalid_token", error_description="malformed token", resource_metadata="https://x/\\"a\\\\b"',
    );
    expect(challenge).toMatch(CHALLENGE);
    expect(paramsOf(challenge!).resource_metadata).toBe('https://x/"a\\b');
  });
});

describe('without a resource, challenges are as before', () => {
  let app: App;
  beforeAll(() => {
    app = appWith(createBearerAuth({ ...issuer.options, audience: RESOURCE, logger: silent, env: {} }), express5, false);
  });

  it.each<[string, string, (r: request.Test) => request.Test, string]>([
    ['no token', 'post /mcp', (r) => r, 'Bearer realm="api"'],
    [
      'a bad token',
      'get /orders',
      (r) => r.set('Authorization', 'Bearer not-a-jwt'),
      'Bearer realm="api", error="invalid_token", error_description="token is not a JWT (opaque tokens are not accepted)"',
    ],
    [
      'a token lacking a scope',
      'get /orders',
      (r) => r.set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read' })}`),
      'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="orders.read orders.write"',
    ],
    [
      'two tokens in one header',
      'post /mcp',
      (r) => r.set('Authorization', 'Bearer a b'),
      'Bearer realm="api", error="invalid_request", error_description="more than one bearer token in the request"',
    ],
  ])('%s', async (_case, route, send, challenge) => {
    const [method, path] = route.split(' ') as ['get' | 'post', string];
    const res = await send(request(app)[method](path));
    expect(res.headers['www-authenticate']).toBe(challenge);
  });
});
