/**
 * The example orders API logs refusals through pino-http's `req.log`, which carries the request:
 * its log lines must not carry the bearer token of the Authorization header with it.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import request from 'supertest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from '../example-server/app.js';
import { captureLogger } from './helpers.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api' });
});
afterAll(() => issuer.close());

it('logs a refusal with its reason and the request, without the token', async () => {
  const log = captureLogger('info');
  const app = createApp(createBearerAuth({ ...issuer.options, logger: log.logger }), log.logger);
  const token = issuer.mint({ scope: 'orders.read' });
  await request(app).post('/orders').set('Authorization', `Bearer ${token}`).set('Cookie', 'session=abc123').send({ item: 'x' }).expect(403);
  const refusal = log.lines.find((line) => line.msg === 'bearer token refused');
  expect(refusal).toMatchObject({ reason: 'insufficient_scope', req: { method: 'POST', url: '/orders' } });
  expect(log.text()).not.toContain(token.split('.')[2]);
  expect(log.text()).not.toContain('abc123');
});
