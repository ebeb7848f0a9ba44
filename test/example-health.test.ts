/**
 * The example's public /health route: enough for a readiness probe (is a key set usable, how old,
 * how many fetches failed), and nothing an anonymous caller should learn: no JWKS or issuer URL,
 * no key ids, no error text.
 */
import { afterEach, beforeEach, expect, it } from 'vitest';
import request from 'supertest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from '../example-server/app.js';
import { silent } from './support/logger.js';

let issuer: TestIssuer;
beforeEach(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api' });
});
afterEach(() => issuer.close());

/** Nothing of the key server's address, its keys or its failures. */
function expectNothingInternal(text: string): void {
  expect(text).not.toContain(new URL(issuer.url).host);
  expect(text).not.toContain(issuer.kid);
  expect(text).not.toMatch(/http|HTTP|500|error/);
}

it('reports counts and ages when the keys are held', async () => {
  const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
  await auth.ready();
  const res = await request(createApp(auth, silent)).get('/health').expect(200);
  expect(res.body).toEqual({
    status: 'ok',
    keySets: [{ usable: true, keys: 1, ageSeconds: expect.any(Number), consecutiveFailures: 0 }],
  });
  expectNothingInternal(res.text);
});

it('reports a failing key server by counts only', async () => {
  issuer.setFault('jwks', 'error');
  const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
  const app = createApp(auth, silent);
  await request(app)
    .get('/orders')
    .set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read' })}`)
    .expect(503);
  const res = await request(app).get('/health').expect(503);
  expect(res.body).toEqual({
    status: 'keys unavailable',
    keySets: [{ usable: false, keys: 0, ageSeconds: null, consecutiveFailures: 1 }],
  });
  expectNothingInternal(res.text);
});
