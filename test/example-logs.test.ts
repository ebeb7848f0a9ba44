/**
 * The example orders API logs through pino-http, auto-logging on as pino-http ships: neither its
 * "request completed" lines nor the refusals it logs through `req.log` may carry a bearer token,
 * from the Authorization header or (when an app allows it) the query string.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from '../example-server/app.js';
import { captureLogger } from './support/logger.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api' });
});
afterAll(() => issuer.close());

const completed = (lines: Array<Record<string, unknown>>) => lines.filter((line) => line.msg === 'request completed');

it('logs a refusal with its reason and the request, without the token', async () => {
  const log = captureLogger('info');
  const app = createApp(createBearerAuth({ ...issuer.options, logger: log.logger }), log.logger);
  const token = issuer.mint({ scope: 'orders.read' });
  await request(app)
    .post('/orders')
    .set('Authorization', `Bearer ${token}`)
    .set('Cookie', 'session=abc123')
    .send({ item: 'x' })
    .expect(403);
  const refusal = log.lines.find((line) => line.msg === 'bearer token refused');
  expect(refusal).toMatchObject({ reason: 'insufficient_scope', req: { method: 'POST', url: '/orders' } });
  expect(log.text()).not.toContain(token.split('.')[2]);
  expect(log.text()).not.toContain('abc123');
});

it('writes a "request completed" line per request, none holding the token of the header or the query', async () => {
  const log = captureLogger('info');
  const app = createApp(createBearerAuth({ ...issuer.options, logger: log.logger, allowQueryToken: true }), log.logger);
  const token = issuer.mint({ scope: 'orders.read' });
  await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(200);
  await request(app).get(`/orders?access_token=${token}`).expect(200);
  await request(app).get(`/orders?access%5Ftoken=${token}&page=2`).expect(200);
  await request(app).get(`/orders?access_token=${token}`).set('Authorization', `Bearer ${token}`).expect(400);
  expect(completed(log.lines)).toHaveLength(4);
  expect(completed(log.lines)[1]).toMatchObject({ req: { method: 'GET', url: '/orders' }, res: { statusCode: 200 } });
  expect(log.text()).not.toContain(token.split('.')[2]);
});
