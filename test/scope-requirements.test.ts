/**
 * Every form of scope requirement, through a real app: `{ allOf }` needs each scope (the same
 * as an array), and the 403's challenge names all of them, in the order the route gave them.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger, type CapturedLogger } from './support/logger.js';

let issuer: TestIssuer;
let log: CapturedLogger;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'scopes-app', audience: 'scopes-api' });
  log = captureLogger('info');
  const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {} });
  app = express();
  const ok = (_req: express.Request, res: express.Response) => {
    res.json({ ok: true });
  };
  app.get('/all-of', auth.requireToken({ allOf: ['a', 'b'] }), ok);
  app.get('/array', auth.requireToken(['a', 'b']), ok);
  app.get('/all-of-reversed', auth.requireToken({ allOf: ['b', 'a'] }), ok);
  app.get('/all-of-one', auth.requireToken({ allOf: ['a'] }), ok);
});
afterAll(() => issuer.close());

const call = (path: string, scope: string | undefined) => {
  log.lines.length = 0;
  return request(app)
    .get(path)
    .set('Authorization', `Bearer ${issuer.mint({ scope })}`);
};

function expectInsufficient(res: request.Response, scope: string): void {
  expect({ status: res.status, challenge: res.headers['www-authenticate'], body: res.body as unknown }).toEqual({
    status: 403,
    challenge: `Bearer realm="api", error="insufficient_scope", error_description="insufficient scope", scope="${scope}"`,
    body: { error: 'insufficient_scope', error_description: 'insufficient scope', scope },
  });
  expect(log.lines.filter((l) => l.msg === 'bearer token refused')).toMatchObject([
    { reason: 'insufficient_scope', status: 403 },
  ]);
}

describe('{ allOf: [...] }', () => {
  it.each(['/all-of', '/array'])('%s: a token with both scopes → 200', async (path) => {
    await call(path, 'a b').expect(200, { ok: true });
    await call(path, 'b x a').expect(200, { ok: true });
  });

  it.each([
    ['only a', 'a'],
    ['only b', 'b'],
    ['neither', 'c'],
    ['no scope at all', undefined],
    ['b as part of a longer name', 'a bb'],
  ])('%s → 403 with scope="a b"', async (_case, scope) => {
    expectInsufficient(await call('/all-of', scope), 'a b');
    expectInsufficient(await call('/array', scope), 'a b');
  });

  it('the challenge keeps the order the route gave', async () => {
    expectInsufficient(await call('/all-of-reversed', 'a'), 'b a');
    await call('/all-of-reversed', 'a b').expect(200);
  });

  it('a single scope: granted → 200, missing → 403 scope="a"', async () => {
    await call('/all-of-one', 'a').expect(200);
    expectInsufficient(await call('/all-of-one', 'b'), 'a');
  });
});
