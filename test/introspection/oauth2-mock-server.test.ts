/**
 * Introspection against an independent issuer, `oauth2-mock-server`: its endpoint found through
 * its discovery document, asked as RFC 7662 says, and its answers (shaped by its
 * `beforeIntrospect` hook) handled as the issue says, server faults included.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { OAuth2Server, type MutableResponse } from 'oauth2-mock-server';
import { createBearerAuth, type BearerAuth } from 'cyberark-bearer';
import { captureLogger } from '../support/logger.js';

const CLIENT = { clientId: 'rs@example.com', clientSecret: 'a b+c%d:e' };
const AUDIENCE = 'orders-api';

interface Asked {
  readonly authorization: string | undefined;
  readonly contentType: string | undefined;
  readonly form: URLSearchParams;
}

let oauth: OAuth2Server;
let front: Server;
let url: string;
/** What the hook answers, per token; unknown tokens are inactive. */
const answers = new Map<string, MutableResponse>();
const asked: Asked[] = [];

type WithForm = IncomingMessage & { form?: URLSearchParams };

beforeAll(async () => {
  oauth = new OAuth2Server();
  await oauth.issuer.keys.generate('RS256');
  // The mock parses no form on /introspect, so a front reads it for the hook; everything else,
  // discovery and keys included, is the mock's own.
  front = createServer((req: WithForm, res) => {
    if (req.method !== 'POST') return oauth.service.requestHandler(req, res);
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      req.form = new URLSearchParams(body);
      oauth.service.requestHandler(req, res);
    });
  });
  await new Promise<void>((resolve) => front.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(front.address() as AddressInfo).port}`;
  oauth.issuer.url = url;
  oauth.service.on('beforeIntrospect', (response: MutableResponse, req: WithForm) => {
    const form = req.form ?? new URLSearchParams();
    asked.push({ authorization: req.headers.authorization, contentType: req.headers['content-type'], form });
    const answer = answers.get(form.get('token') ?? '') ?? { statusCode: 200, body: { active: false } };
    response.statusCode = answer.statusCode;
    response.body = answer.body;
  });
});
afterAll(async () => {
  front.closeAllConnections();
  await new Promise<void>((resolve) => front.close(() => resolve()));
});
afterEach(() => {
  answers.clear();
  asked.length = 0;
});

let n = 0;
/** A fresh opaque token and what the mock answers for it. */
function opaque(statusCode: number, body: unknown): string {
  const token = `mock-opaque-token-${++n}-${'x'.repeat(20)}`;
  answers.set(token, { statusCode, body: body as MutableResponse['body'] });
  return token;
}

function api(): { auth: BearerAuth; app: express.Express; text: () => string } {
  const log = captureLogger();
  const auth = createBearerAuth({
    issuer: url,
    audience: AUDIENCE,
    tokens: 'any',
    introspection: CLIENT,
    logger: log.logger,
    env: {},
  });
  const app = express();
  app.get('/me', auth.requireToken('orders.read'), (req, res) => {
    const { source, clientId, subject, scopes, expiresAt } = req.auth;
    res.json({ source, clientId, subject, scopes, expiresAt });
  });
  app.post('/payments', auth.requireToken(undefined, { revocation: 'introspect' }), (req, res) => {
    res.json({ source: req.auth.source });
  });
  return { auth, app, text: () => log.text() };
}

const exp = () => Math.floor(Date.now() / 1000) + 600;

describe('introspection at oauth2-mock-server', () => {
  it('finds the endpoint in the discovery document and asks as RFC 7662 and RFC 6749 §2.3.1 say', async () => {
    const { app, text } = api();
    const expires = exp();
    const token = opaque(200, {
      active: true,
      scope: 'orders.read other',
      client_id: 'svc-a',
      username: 'svc-user',
      sub: 'u-1',
      exp: expires,
    });
    const res = await request(app).get('/me').set('Authorization', `Bearer ${token}`).expect(200);
    expect(res.body).toEqual({
      source: 'introspection',
      clientId: 'svc-a',
      subject: 'u-1',
      scopes: ['orders.read', 'other'],
      expiresAt: expires,
    });
    expect(asked).toHaveLength(1);
    const [call] = asked;
    expect(call!.contentType).toBe('application/x-www-form-urlencoded');
    expect([...call!.form.keys()]).toEqual(['token', 'token_type_hint']);
    expect(call!.form.get('token')).toBe(token);
    expect(call!.form.get('token_type_hint')).toBe('access_token');
    expect(call!.authorization).toBe(`Basic ${Buffer.from('rs%40example.com:a+b%2Bc%25d%3Ae').toString('base64')}`);
    expect(text()).not.toContain(token);
  });

  it('takes clientId from username, then sub, when client_id is absent', async () => {
    const { app } = api();
    const byUsername = opaque(200, { active: true, scope: 'orders.read', username: 'svc-user', sub: 'u-2' });
    expect(
      ((await request(app).get('/me').set('Authorization', `Bearer ${byUsername}`)).body as { clientId: string }).clientId,
    ).toBe('svc-user');
    const bySub = opaque(200, { active: true, scope: 'orders.read', sub: 'u-3' });
    expect(((await request(app).get('/me').set('Authorization', `Bearer ${bySub}`)).body as { clientId: string }).clientId).toBe(
      'u-3',
    );
  });

  it.each<[string, number, unknown, number, string]>([
    ['active: false', 200, { active: false }, 401, 'token is not active'],
    ['active but expired by its exp', 200, { active: true, scope: 'orders.read', exp: 1_000_000 }, 401, 'token expired'],
    ['active for another audience', 200, { active: true, scope: 'orders.read', aud: 'billing' }, 401, 'unexpected audience'],
    [
      'active from another issuer',
      200,
      { active: true, scope: 'orders.read', iss: 'https://elsewhere.example/' },
      401,
      'unexpected issuer',
    ],
    ['active without the scope', 200, { active: true }, 403, 'insufficient scope'],
    [
      'active as a string',
      200,
      { active: 'true', scope: 'orders.read' },
      503,
      'token introspection unavailable, try again later',
    ],
    ['without active', 200, { scope: 'orders.read' }, 503, 'token introspection unavailable, try again later'],
    ['an array', 200, [{ active: true }], 503, 'token introspection unavailable, try again later'],
    ['a 500', 500, { active: true, scope: 'orders.read' }, 503, 'token introspection unavailable, try again later'],
  ])('answers %s with %i', async (_case, statusCode, body, status, description) => {
    const { app } = api();
    const res = await request(app)
      .get('/me')
      .set('Authorization', `Bearer ${opaque(statusCode, body)}`);
    expect(res.status).toBe(status);
    expect((res.body as { error_description: string }).error_description).toBe(description);
    if (status === 503) expect(res.headers['retry-after']).toBe('1');
  });

  it("verifies the mock's JWTs locally, and introspects them on a revocation-sensitive route", async () => {
    const { app } = api();
    const jwt = await oauth.issuer.buildToken({
      scopesOrTransform: (_header, payload) => {
        payload.aud = AUDIENCE;
        payload.scope = 'orders.read';
      },
    });
    expect(
      ((await request(app).get('/me').set('Authorization', `Bearer ${jwt}`).expect(200)).body as { source: string }).source,
    ).toBe('jwt');
    expect(asked).toHaveLength(0);
    // The hook answers inactive for a token it was not told about: revoked, as far as the route knows.
    await request(app).post('/payments').set('Authorization', `Bearer ${jwt}`).expect(401);
    answers.set(jwt, { statusCode: 200, body: { active: true } });
    const fresh = api();
    expect(
      ((await request(fresh.app).post('/payments').set('Authorization', `Bearer ${jwt}`).expect(200)).body as { source: string })
        .source,
    ).toBe('jwt');
    expect(asked).toHaveLength(2);
  });
});
