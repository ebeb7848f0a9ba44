/**
 * requireToken() in an Express app, as a user writes it, against the test kit's issuer over
 * real HTTP, on Express 5 and Express 4.
 */
import { get as httpGet } from 'node:http';
import type { NextFunction, Request, Response } from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createBearerAuth,
  requireToken,
  BearerError,
  InvalidTokenError,
  InsufficientScopeError,
  type BearerAuth,
} from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { EXPRESS_VERSIONS, guardedApp, type ExpressFactory } from './support/apps.js';
import { listen } from './support/http.js';
import { captureLogger, silent } from './support/logger.js';

describe.each(EXPRESS_VERSIONS)('requireToken on %s', (_name, express: ExpressFactory) => {
  let issuer: TestIssuer;
  let auth: BearerAuth;
  let app: ReturnType<ExpressFactory>;

  beforeAll(async () => {
    issuer = await createTestIssuer({ appId: 'orders-api', audience: 'https://api.example.com/orders' });
    auth = createBearerAuth({ ...issuer.options, logger: silent });
    app = express();
    app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
      res.json({ caller: req.auth.clientId, scopes: req.auth.scopes });
    });
    app.post('/orders', auth.requireToken(['orders.write', 'orders.read']), (_req, res) => {
      res.status(201).json({ created: true });
    });
    app.get('/reports', auth.requireToken({ anyOf: ['reports.read', 'admin'] }), (_req, res) => {
      res.json({ ok: true });
    });
    app.get('/me', auth.requireToken(), (req, res) => {
      res.json({
        subject: req.auth.subject,
        clientId: req.auth.clientId,
        kid: req.auth.header.kid,
        appId: req.auth.claims.app_id,
        expiresAt: req.auth.expiresAt,
        hasToken: req.auth.token.length > 0,
      });
    });
  });
  afterAll(() => issuer.close());

  const bearer = (token: string) => `Bearer ${token}`;

  it('lets a valid token with the scope through and attaches req.auth', async () => {
    const token = issuer.mint({ scope: 'orders.read', unique_name: 'svc-reporting@cyberark.cloud.1234' });
    const res = await request(app).get('/orders').set('Authorization', bearer(token)).expect(200);
    expect(res.body).toEqual({ caller: 'svc-reporting@cyberark.cloud.1234', scopes: ['orders.read'] });
  });

  it('fills req.auth with subject, clientId, header and claims', async () => {
    const token = issuer.mint({ sub: '0a1b2c3d-1111-2222-3333-444455556666', client_id: 'svc-a', exp: 2_000_000_000 });
    const res = await request(app).get('/me').set('Authorization', bearer(token)).expect(200);
    expect(res.body).toEqual({
      subject: '0a1b2c3d-1111-2222-3333-444455556666',
      clientId: 'svc-a',
      kid: issuer.kid,
      appId: 'orders-api',
      expiresAt: 2_000_000_000,
      hasToken: true,
    });
  });

  it('takes clientId from client_id, then azp, then unique_name, then sub', async () => {
    const get = async (claims: Record<string, unknown>) =>
      (
        await request(app)
          .get('/me')
          .set('Authorization', bearer(issuer.mint(claims)))
          .expect(200)
      ).body.clientId;
    expect(await get({ client_id: 'c', azp: 'a', unique_name: 'u', sub: 's' })).toBe('c');
    expect(await get({ azp: 'a', unique_name: 'u', sub: 's' })).toBe('a');
    expect(await get({ unique_name: 'u', sub: 's' })).toBe('u');
    expect(await get({ unique_name: undefined, sub: 's' })).toBe('s');
  });

  it('accepts the scheme in any case', async () => {
    const token = issuer.mint({ scope: 'orders.read' });
    await request(app).get('/orders').set('Authorization', `bearer ${token}`).expect(200);
    await request(app).get('/orders').set('Authorization', `BEARER ${token}`).expect(200);
  });

  it('answers 401 with a bare challenge when there are no credentials', async () => {
    const res = await request(app).get('/orders').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    expect(res.body).toEqual({ error: 'unauthorized', error_description: 'bearer token required' });
  });

  it('treats another scheme (Basic) as no bearer credentials', async () => {
    const res = await request(app).get('/orders').set('Authorization', 'Basic dXNlcjpwYXNz').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
  });

  it('answers 400 invalid_request for "Bearer" with no token', async () => {
    const res = await request(app).get('/orders').set('Authorization', 'Bearer').expect(400);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="invalid_request", error_description="malformed Authorization header"',
    );
    expect(res.body.error).toBe('invalid_request');
  });

  it('answers 400 invalid_request for two tokens in one header', async () => {
    const token = issuer.mint({ scope: 'orders.read' });
    const res = await request(app).get('/orders').set('Authorization', `Bearer ${token} ${token}`).expect(400);
    expect(res.body).toEqual({ error: 'invalid_request', error_description: 'more than one bearer token in the request' });
  });

  it('answers 400 for characters outside the b64token alphabet', async () => {
    await request(app).get('/orders').set('Authorization', 'Bearer abc$def').expect(400);
  });

  it('refuses a token in the query string unless opted in', async () => {
    const token = issuer.mint({ scope: 'orders.read' });
    const res = await request(app).get(`/orders?access_token=${token}`).expect(400);
    expect(res.body.error_description).toBe('tokens in the query string are not accepted, use the Authorization header');
  });

  it('answers 401 invalid_token for an expired token', async () => {
    const now = Math.floor(Date.now() / 1000);
    const token = issuer.mint({ scope: 'orders.read', iat: now - 7200, exp: now - 3600 });
    const res = await request(app).get('/orders').set('Authorization', bearer(token)).expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api", error="invalid_token", error_description="token expired"');
    expect(res.body).toEqual({ error: 'invalid_token', error_description: 'token expired' });
  });

  it.each([
    ['another audience', { aud: 'https://api.example.com/billing' }, 'unexpected audience'],
    ['another issuer (another app of the tenant)', { iss: 'https://abc1234.id.cyberark.cloud/billing/' }, 'unexpected issuer'],
    ['no exp', { exp: undefined }, 'token has no expiry'],
    ['nbf in the future', { nbf: Math.floor(Date.now() / 1000) + 3600 }, 'token not yet valid'],
    ['iat in the future', { iat: Math.floor(Date.now() / 1000) + 3600 }, 'token issued in the future'],
  ])('answers 401 invalid_token for %s', async (_case, claims, description) => {
    const token = issuer.mint({ scope: 'orders.read', ...claims });
    const res = await request(app).get('/orders').set('Authorization', bearer(token)).expect(401);
    expect(res.body).toEqual({ error: 'invalid_token', error_description: description });
  });

  it('answers 401 for a token that is not a JWT (an opaque CyberArk token)', async () => {
    const res = await request(app).get('/orders').set('Authorization', 'Bearer 3f9a8b7c6d5e4f3a2b1c').expect(401);
    expect(res.body.error_description).toBe('token is not a JWT (opaque tokens are not accepted)');
  });

  it('answers 403 insufficient_scope with the required scopes', async () => {
    const token = issuer.mint({ scope: 'orders.read' });
    const res = await request(app).post('/orders').set('Authorization', bearer(token)).expect(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="orders.write orders.read"',
    );
    expect(res.body).toEqual({
      error: 'insufficient_scope',
      error_description: 'insufficient scope',
      scope: 'orders.write orders.read',
    });
  });

  it('requires all scopes of an array', async () => {
    const both = issuer.mint({ scope: 'orders.read orders.write' });
    await request(app).post('/orders').set('Authorization', bearer(both)).expect(201);
    const one = issuer.mint({ scope: 'orders.write' });
    await request(app).post('/orders').set('Authorization', bearer(one)).expect(403);
  });

  it('requires one scope of anyOf', async () => {
    await request(app)
      .get('/reports')
      .set('Authorization', bearer(issuer.mint({ scope: 'admin' })))
      .expect(200);
    await request(app)
      .get('/reports')
      .set('Authorization', bearer(issuer.mint({ scope: 'reports.read' })))
      .expect(200);
    await request(app)
      .get('/reports')
      .set('Authorization', bearer(issuer.mint({ scope: 'orders.read' })))
      .expect(403);
  });

  it.each([['orders.readx'], ['orders'], ['read'], ['orders.read.all'], ['ORDERS.READ'], ['xorders.read']])(
    'matches whole scope names only: %s does not grant orders.read',
    async (scope) => {
      await request(app)
        .get('/orders')
        .set('Authorization', bearer(issuer.mint({ scope })))
        .expect(403);
    },
  );

  it('reads scopes from an scp array when scope is absent', async () => {
    await request(app)
      .get('/orders')
      .set('Authorization', bearer(issuer.mint({ scp: ['orders.read'] })))
      .expect(200);
  });

  it('grants nothing from a scope claim of the wrong type', async () => {
    await request(app)
      .get('/orders')
      .set('Authorization', bearer(issuer.mint({ scope: 42 })))
      .expect(403);
  });

  it('lets any valid token through requireToken() with no scope', async () => {
    await request(app).get('/me').set('Authorization', bearer(issuer.mint())).expect(200);
  });

  it('passes a typed error to next() with onError: "next"', async () => {
    const nextAuth = createBearerAuth({ ...issuer.options, logger: silent, onError: 'next' });
    const custom = guardedApp(nextAuth.requireToken('orders.read'), { express });
    custom.use((error: unknown, _req: unknown, res: { status(n: number): { json(b: unknown): void } }, _next: unknown) => {
      const e = error as BearerError;
      res.status(e.status).json({
        mine: true,
        isBearerError: e instanceof BearerError,
        isInvalidToken: e instanceof InvalidTokenError,
        isScope: e instanceof InsufficientScopeError,
        reason: e.reason,
        code: e.code,
      });
    });
    const expired = issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 });
    const res = await request(custom).get('/x').set('Authorization', bearer(expired)).expect(401);
    expect(res.body).toEqual({
      mine: true,
      isBearerError: true,
      isInvalidToken: true,
      isScope: false,
      reason: 'token_expired',
      code: 'ERR_BEARER_INVALID_TOKEN',
    });
    const noScope = await request(custom).get('/x').set('Authorization', bearer(issuer.mint())).expect(403);
    expect(noScope.body.isScope).toBe(true);
  });

  it("lets Express's own error handler answer with the error's status and headers", async () => {
    const nextAuth = createBearerAuth({ ...issuer.options, logger: silent, onError: 'next', realm: 'orders' });
    const plain = guardedApp(nextAuth.requireToken(), { express });
    const res = await request(plain).get('/x').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"');
    const expired = await request(plain)
      .get('/x')
      .set('Authorization', bearer(issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 })))
      .expect(401);
    expect(expired.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="invalid_token", error_description="token expired"',
    );
    expect(expired.headers['cache-control']).toBe('no-store');
  });

  it('closes the connection when it must refuse after an earlier middleware sent the headers', async () => {
    const early = express();
    early.use((_req, res, next) => {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.write('partial');
      next();
    });
    early.get('/x', auth.requireToken('orders.read'), (_req, res) => {
      res.end('never');
    });
    const { port, close } = await listen(early);
    try {
      expect(await outcome(`http://127.0.0.1:${port}/x`)).toBe('closed before the end');
    } finally {
      await close();
    }
  });

  it("answers like the middleware through the README's error handler, realm included", async () => {
    const nextAuth = createBearerAuth({ ...issuer.options, logger: silent, onError: 'next', realm: 'orders' });
    const handled = guardedApp(nextAuth.requireToken('orders.read'), { express });
    handled.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
      if (!(err instanceof BearerError)) return next(err);
      res.status(err.status).set(err.headers).json(err.body);
    });
    const res = await request(handled)
      .get('/x')
      .set('Authorization', bearer(issuer.mint({ scope: 'other' })))
      .expect(403);
    expect(res.headers['www-authenticate']).toBe(
      'Bearer realm="orders", error="insufficient_scope", error_description="insufficient scope", scope="orders.read"',
    );
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.body).toEqual({ error: 'insufficient_scope', error_description: 'insufficient scope', scope: 'orders.read' });
  });

  it('uses the configured realm', async () => {
    const realmAuth = createBearerAuth({ ...issuer.options, logger: silent, realm: 'orders' });
    const realmApp = guardedApp(realmAuth.requireToken(), { express });
    const res = await request(realmApp).get('/x').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="orders"');
  });

  it('guards every route under app.use()', async () => {
    const guarded = express();
    guarded.use('/api', auth.requireToken('orders.read'));
    guarded.get('/api/orders', (_req, res) => {
      res.json({ ok: true });
    });
    guarded.get('/public', (_req, res) => {
      res.json({ ok: true });
    });
    await request(guarded).get('/api/orders').expect(401);
    await request(guarded)
      .get('/api/orders')
      .set('Authorization', bearer(issuer.mint({ scope: 'orders.read' })))
      .expect(200);
    await request(guarded).get('/public').expect(200);
  });

  it('answers HEAD requests with the same status and no body', async () => {
    const res = await request(app).head('/orders').expect(401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="api"');
    expect(res.text ?? '').toBe('');
  });

  it('logs each refusal once at info with a reason, never the token', async () => {
    const captured = captureLogger();
    const logged = createBearerAuth({ ...issuer.options, logger: captured.logger });
    const logApp = guardedApp(logged.requireToken('orders.read'), { path: '/orders', express });
    const expired = issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600, sub: 'sub-123' });
    await request(logApp).get('/orders?x=1').set('Authorization', bearer(expired)).expect(401);
    const refusals = captured.lines.filter((l) => l.msg === 'bearer token refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({
      level: 30,
      reason: 'token_expired',
      status: 401,
      method: 'GET',
      path: '/orders',
      route: '/orders',
      sub: 'sub-123',
      kid: issuer.kid,
    });
    expect(captured.text()).not.toContain(expired);
    expect(captured.text()).not.toContain(expired.split('.')[2]);
  });
});

describe('requireToken() from the environment', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ appId: 'env-app', audience: 'env-audience' });
  });
  afterAll(() => issuer.close());

  it('reads CYBERARK_TENANT_URL, CYBERARK_APP_ID and CYBERARK_AUDIENCE', async () => {
    const { default: express } = await import('express');
    const env = {
      CYBERARK_TENANT_URL: issuer.url,
      CYBERARK_APP_ID: 'env-app',
      CYBERARK_AUDIENCE: 'env-audience',
      LOG_LEVEL: 'silent',
    };
    const app = express();
    app.get('/orders', requireToken('orders.read', { env }), (req, res) => {
      res.json({ sub: req.auth.subject });
    });
    await request(app)
      .get('/orders')
      .set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read', sub: 's1' })}`)
      .expect(200, { sub: 's1' });
  });

  it('throws at construction when the audience is missing, naming the option and env var', () => {
    expect(() => requireToken('orders.read', { env: { CYBERARK_TENANT_URL: issuer.url, CYBERARK_APP_ID: 'env-app' } })).toThrow(
      /option "audience" \(env CYBERARK_AUDIENCE\) is required/,
    );
  });

  it("refuses requireToken('a', 'b'), the call that silently drops 'b' elsewhere", () => {
    const call = requireToken as (...args: unknown[]) => unknown;
    expect(() => call('orders.read', 'orders.write')).toThrow(/takes one scope requirement.*\['a', 'b'\]/);
    const auth = createBearerAuth({ ...issuer.options, logger: silent });
    const method = (...args: unknown[]) =>
      (auth as unknown as { requireToken(...args: unknown[]): unknown }).requireToken(...args);
    expect(() => method('orders.read', 'orders.write')).toThrow(/takes one scope requirement/);
  });
});

/** How a GET ends for the client: complete, cut off, or still open after a few seconds (a hang). */
function outcome(url: string): Promise<'complete' | 'closed before the end' | 'still open'> {
  return new Promise((resolve) => {
    const req = httpGet(url, (res) => {
      res.resume();
      res.on('error', () => undefined);
      res.on('close', () => resolve(res.complete ? 'complete' : 'closed before the end'));
    });
    req.on('error', () => resolve('closed before the end'));
    req.setTimeout(3000, () => {
      resolve('still open');
      req.destroy();
    });
  });
}

describe('a logger that throws', () => {
  it('still gets the refusal answered, for a token that needed a full check', async () => {
    const issuer = await createTestIssuer({ appId: 'orders-api' });
    try {
      const throwing = {
        ...silent,
        info: () => {
          throw new Error('log sink down');
        },
      };
      const auth = createBearerAuth({ ...issuer.options, logger: throwing as unknown as typeof silent, env: {} });
      const app = guardedApp(auth.requireToken('orders.read'));
      const res = await request(app)
        .get('/x')
        .set('Authorization', `Bearer ${issuer.mint({ scope: 'other' })}`)
        .timeout(5000);
      expect(res.status).toBe(403);
    } finally {
      await issuer.close();
    }
  });
});
