/**
 * Refusals logged through pino-http's `req.log` must not carry the credentials. pino-http binds
 * the serialized request, Authorization header and query string included, to `req.log`; a line
 * written through it would hold the token even though our own fields never do.
 */
import express from 'express';
import { pino } from 'pino';
import { pinoHttp, type Options as PinoHttpOptions } from 'pino-http';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger } from './helpers.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer();
});
afterAll(() => issuer.close());

function appWith(httpOptions: PinoHttpOptions | undefined, level = 'info') {
  const captured = captureLogger(level);
  const auth = createBearerAuth({ ...issuer.options, logger: captured.logger, env: {}, allowQueryToken: false });
  const app = express();
  if (httpOptions) app.use(pinoHttp({ logger: captured.logger, autoLogging: false, ...httpOptions }));
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
    expect(warnings[0]!.msg).toMatch(/quietReqLogger|redact/);
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
    for (const header of [',', '":"', '{', 'GET', 'keep-alive']) await request(app).get('/x').set('Authorization', header).expect(401);
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

  it('pino-http on a logger that redacts the header: the line goes through req.log with its req binding, no token', async () => {
    const lines: string[] = [];
    const redacting = pino({ level: 'info', redact: ['req.headers.authorization'] }, { write: (line: string) => void lines.push(line) });
    const auth = createBearerAuth({ ...issuer.options, logger: redacting, env: {} });
    const app = express();
    app.use(pinoHttp({ logger: redacting, autoLogging: false }));
    app.get('/x', auth.requireToken('a'), (_req, res) => {
      res.json({});
    });
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expect(lines.join('')).not.toContain(token);
    expect(JSON.parse(lines[0]!)).toMatchObject({ msg: 'bearer token refused', req: { headers: { authorization: '[Redacted]' } } });
  });
});
