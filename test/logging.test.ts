/**
 * Refusals logged through pino-http's `req.log` must not carry the credentials. pino-http binds
 * the serialized request, Authorization header and query string included, to `req.log`; a line
 * written through it would hold the token even though our own fields never do.
 */
import express from 'express';
import type { LoggerOptions } from 'pino';
import { pinoHttp, type Options as PinoHttpOptions } from 'pino-http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger } from './support/logger.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

type Middleware = (req: express.Request, res: express.Response, next: express.NextFunction) => void;

interface AppOptions {
  /** A user's middleware, after pino-http. */
  readonly after?: Middleware;
  /** The logger's redaction. */
  readonly redact?: LoggerOptions['redact'];
  readonly bearer?: Partial<BearerAuthOptions>;
}

/** An app with pino-http (unless `httpOptions` is undefined) on an info logger, then `after`, then a guarded GET /x. */
function appWith(httpOptions: PinoHttpOptions | undefined, { after, redact, bearer }: AppOptions = {}) {
  const captured = captureLogger('info', redact === undefined ? {} : { redact });
  const auth = createBearerAuth({ ...issuer.options, logger: captured.logger, env: {}, allowQueryToken: false, ...bearer });
  const app = express();
  if (httpOptions) app.use(pinoHttp({ logger: captured.logger, autoLogging: false, ...httpOptions }));
  if (after) app.use(after);
  app.get('/x', auth.requireToken('a'), (_req, res) => {
    res.json({});
  });
  return { app, captured };
}

const refusals = (lines: Array<Record<string, unknown>>) => lines.filter((l) => l.msg === 'bearer token refused');

describe('refusal logs behind pino-http', () => {
  it('default pino-http (req.log carries the headers): the token is not written, the line keeps the request id', async () => {
    const { app, captured } = appWith({});
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expect(captured.text()).not.toContain(token);
    expect(captured.text()).not.toContain(token.split('.')[2]);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'insufficient_scope', reqId: 1 })]);
  });

  it('default pino-http and a token in the query string: not written either', async () => {
    const { app, captured } = appWith({});
    const token = issuer.mint({ scope: 'a' });
    await request(app).get(`/x?access_token=${token}`).expect(400);
    expect(captured.text()).not.toContain(token.split('.')[2]);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'token_in_query', path: '/x' })]);
  });

  it('says once, at warn, why req.log was not used and how to fix it', async () => {
    const { app, captured } = appWith({});
    for (let i = 0; i < 3; i++) await request(app).get('/x').set('Authorization', 'Bearer not-a-jwt-at-all').expect(401);
    const warnings = captured.lines.filter((l) => l.level === 40);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toMatch(/req serializer that keeps neither headers.authorization, nor query/);
    expect(captured.text()).not.toContain('not-a-jwt-at-all');
  });

  it('pino-http with quietReqLogger: the line goes through req.log (its reqId binding), no token', async () => {
    const { app, captured } = appWith({ quietReqLogger: true });
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expect(captured.text()).not.toContain(token);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'insufficient_scope', reqId: 1 })]);
    expect(captured.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('pino-http with quietReqLogger and a header that looks like the request id: no false alarm', async () => {
    const { app, captured } = appWith({ quietReqLogger: true });
    await request(app).get('/x').set('Authorization', '1').expect(401);
    await request(app).get('/x?access_token=2').expect(400);
    expect(refusals(captured.lines)).toEqual([
      expect.objectContaining({ reason: 'no_credentials', reqId: 1 }),
      expect.objectContaining({ reason: 'token_in_query', reqId: 2 }),
    ]);
    expect(captured.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('pino-http whose req serializer drops the header: a header that looks like JSON syntax is no false alarm', async () => {
    const withoutAuthorization = (req: { headers: Record<string, unknown> }) => {
      const { authorization: _authorization, ...headers } = req.headers;
      return { ...req, headers };
    };
    const { app, captured } = appWith({ serializers: { req: withoutAuthorization } });
    for (const header of [',', '":"', '{', 'GET', 'keep-alive'])
      await request(app).get('/x').set('Authorization', header).expect(401);
    expect(refusals(captured.lines)).toHaveLength(5);
    expect(refusals(captured.lines)[0]).toMatchObject({ reason: 'no_credentials', req: { method: 'GET', url: '/x' } });
    expect(captured.lines.filter((l) => l.level === 40)).toEqual([]);
  });

  it('default pino-http and a short Basic credential: not written', async () => {
    const { app, captured } = appWith({});
    await request(app).get('/x').set('Authorization', 'Basic dTpw').expect(401);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'no_credentials', reqId: 1 })]);
    expect(captured.text()).not.toContain('dTpw');
  });

  it('pino-http on a logger that removes the header (redact with remove: true): the line goes through req.log, no token', async () => {
    const { app, captured } = appWith({}, { redact: { paths: ['req.headers.authorization'], remove: true } });
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expect(captured.text()).not.toContain(token);
    expect(captured.lines[0]).toMatchObject({ msg: 'bearer token refused', req: { method: 'GET', url: '/x' } });
  });

  it('pino-http on a logger that censors the header: an authorization key is enough to skip req.log', async () => {
    const { app, captured } = appWith({}, { redact: ['req.headers.authorization'] });
    await request(app)
      .get('/x')
      .set('Authorization', `Bearer ${issuer.mint({ scope: 'b' })}`)
      .expect(403);
    const [refusal] = refusals(captured.lines);
    expect(refusal).toMatchObject({ reason: 'insufficient_scope', reqId: 1 });
    expect(refusal).not.toHaveProperty('req');
  });
});

/** Searches the log for a token in each form a line could hold it: as sent, and its signature. */
function expectNoToken(captured: { text(): string }, token: string): void {
  expect(captured.text()).not.toContain(token);
  expect(captured.text()).not.toContain(token.split('.')[2]!.slice(0, 40));
}

describe('the req.log guard reads what pino-http bound, not the live request', () => {
  it('a percent-encoded query name (access%5Ftoken): refused, and the line does not carry it', async () => {
    const { app, captured } = appWith({});
    const token = issuer.mint({ scope: 'a' });
    await request(app).get(`/x?access%5Ftoken=${token}`).expect(400);
    expectNoToken(captured, token);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'token_in_query', reqId: 1 })]);
  });

  it('a query token with + / = percent-encoded, behind a serializer that keeps the parsed query: not written', async () => {
    const withoutHeaderOrUrlQuery = (req: { headers: Record<string, unknown>; url: string }) => {
      const { authorization: _authorization, ...headers } = req.headers;
      return { ...req, url: req.url.split('?')[0], headers };
    };
    const { app, captured } = appWith({ serializers: { req: withoutHeaderOrUrlQuery } });
    const opaque = 'opaque+token/with=signs+in/it==';
    await request(app)
      .get(`/x?access_token=${encodeURIComponent(opaque)}`)
      .expect(400);
    expect(captured.text()).not.toContain(opaque);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'token_in_query', reqId: 1 })]);
  });

  it('a middleware that rewrites req.url (dropping the query) after pino-http: the bound URL still counts', async () => {
    const { app, captured } = appWith(
      {},
      {
        after: (req, _res, next) => {
          req.url = req.url.split('?')[0]!;
          next();
        },
      },
    );
    const token = issuer.mint({ scope: 'a' });
    await request(app).get(`/x?access_token=${token}`).expect(401);
    expectNoToken(captured, token);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'no_credentials', reqId: 1 })]);
  });

  it('a middleware that deletes req.headers.authorization after pino-http: the bound header still counts', async () => {
    const { app, captured } = appWith(
      {},
      {
        after: (req, _res, next) => {
          delete req.headers.authorization;
          next();
        },
      },
    );
    const token = issuer.mint({ scope: 'a' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(401);
    expectNoToken(captured, token);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'no_credentials', reqId: 1 })]);
  });

  it('the token bound under another name by a custom serializer: not written', async () => {
    const caller = (req: { method: string; url: string; headers: Record<string, string> }) => ({
      method: req.method,
      url: req.url,
      caller: req.headers.authorization?.split(' ')[1],
    });
    const { app, captured } = appWith({ serializers: { req: caller } });
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expectNoToken(captured, token);
    expect(refusals(captured.lines)).toEqual([expect.objectContaining({ reason: 'insufficient_scope', reqId: 1 })]);
  });
});

describe("the README's pino-http recipe, with auto-logging on", () => {
  /** The serializer of docs/logging.md (the README points to it). */
  const recipe = (req: { id: unknown; method: string; url: string; headers: Record<string, unknown> }) => {
    const { authorization: _authorization, cookie: _cookie, ...headers } = req.headers;
    return { id: req.id, method: req.method, url: req.url.split('?')[0], headers };
  };

  it('no line, "request completed" or refusal, holds a token from the header or the query', async () => {
    const { app, captured } = appWith({ autoLogging: true, serializers: { req: recipe } }, { bearer: { allowQueryToken: true } });
    const token = issuer.mint({ scope: 'a' });
    const other = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(200);
    await request(app).get(`/x?access_token=${token}`).expect(200);
    await request(app).get(`/x?access%5Ftoken=${other}`).expect(403);
    await request(app).get(`/x?access_token=${token}`).set('Authorization', `Bearer ${other}`).expect(400);
    expect(captured.lines.filter((l) => l.msg === 'request completed')).toHaveLength(4);
    // The recipe's bindings are clean: refusals go through req.log, with its request.
    expect(refusals(captured.lines)).toEqual([
      expect.objectContaining({ reason: 'insufficient_scope', req: expect.objectContaining({ url: '/x' }) }),
      expect.objectContaining({ reason: 'several_tokens', req: expect.objectContaining({ url: '/x' }) }),
    ]);
    for (const t of [token, other]) expectNoToken(captured, t);
  });

  it('pino-http as it ships, for contrast: its "request completed" line holds the header', async () => {
    const captured = captureLogger('info');
    const app = express();
    app.use(pinoHttp({ logger: captured.logger }));
    app.get('/x', (_req, res) => {
      res.json({});
    });
    await request(app).get('/x').set('Authorization', 'Bearer a-token-that-pino-http-logs');
    expect(captured.text()).toContain('a-token-that-pino-http-logs');
  });
});
