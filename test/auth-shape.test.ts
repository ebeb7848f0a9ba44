/**
 * What a handler reads in `req.auth` when a genuine token carries odd claims: scopes come from
 * the first scope claim present (`scope`, then `scp`), split on spaces only; `clientId` is the
 * first non-empty string of `client_id`, `azp`, `unique_name`, `sub`, else `''`.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { silent } from './support/logger.js';

/** The test kit's default `unique_name`. */
const UNIQUE_NAME = 'test-client@cyberark.cloud.0000';

let issuer: TestIssuer;
let app: express.Express;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'shape-app', audience: 'shape-api' });
  const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
  app = express();
  app.get('/any', auth.requireToken(), (req, res) => {
    const { scopes, clientId, subject } = req.auth;
    res.json({ scopes, clientId: clientId ?? null, subject: subject ?? null });
  });
  app.get('/needs-a', auth.requireToken('a'), (_req, res) => {
    res.json({ ok: true });
  });
});
afterAll(() => issuer.close());

async function authOf(
  claims: Record<string, unknown>,
): Promise<{ scopes: string[]; clientId: string | null; subject: string | null }> {
  const res = await request(app)
    .get('/any')
    .set('Authorization', `Bearer ${issuer.mint(claims)}`)
    .expect(200);
  return res.body as { scopes: string[]; clientId: string | null; subject: string | null };
}

describe('req.auth.scopes', () => {
  it.each([
    ['no scope claim at all', {}, []],
    ['scope ""', { scope: '' }, []],
    ['scope "" next to scp: scope is present, so scp is not read', { scope: '', scp: ['a'] }, []],
    ['scope with repeated, leading and trailing spaces', { scope: '  a   b  ' }, ['a', 'b']],
    ['scope with a tab: spaces alone separate', { scope: 'a\tb' }, ['a\tb']],
    ['scope as a number', { scope: 5, scp: ['a'] }, []],
    ['scope as true', { scope: true }, []],
    ['scope as null (present)', { scope: null, scp: ['a'] }, []],
    ['scope as an object', { scope: { a: true } }, []],
    ['scope as an array', { scope: ['a', 'b'] }, ['a', 'b']],
    ['scp as an array with non-strings and empty strings', { scp: ['a', 1, null, '', { b: 1 }, ['b'], true, 'c'] }, ['a', 'c']],
    ['scp as a space-separated string', { scp: ' a  b ' }, ['a', 'b']],
    ['scp as an empty array', { scp: [] }, []],
  ])('%s', async (_case, claims, scopes) => {
    expect((await authOf(claims)).scopes).toEqual(scopes);
  });

  it.each([
    ['a\tb', { scope: 'a\tb' }],
    ['"aa" (no substrings)', { scope: 'aa' }],
    ['a number', { scope: 5 }],
    ['scp [1, ["a"], { a: 1 }]', { scp: [1, ['a'], { a: 1 }] }],
    ['scope "" next to scp ["a"]', { scope: '', scp: ['a'] }],
  ])('a route requiring "a" refuses %s with 403', async (_case, claims) => {
    await request(app)
      .get('/needs-a')
      .set('Authorization', `Bearer ${issuer.mint(claims)}`)
      .expect(403);
  });

  it.each([
    ['scope "a"', { scope: 'a' }],
    ['scope "  a  "', { scope: '  a  ' }],
    ['scp ["a"]', { scp: ['a'] }],
    ['scp [1, "a"]', { scp: [1, 'a'] }],
  ])('a route requiring "a" admits %s', async (_case, claims) => {
    await request(app)
      .get('/needs-a')
      .set('Authorization', `Bearer ${issuer.mint(claims)}`)
      .expect(200);
  });
});

describe('req.auth.clientId and subject', () => {
  it.each([
    ['client_id first', { client_id: 'svc', azp: 'party' }, 'svc'],
    ['client_id "" → azp', { client_id: '', azp: 'party' }, 'party'],
    ['client_id "", no azp → unique_name', { client_id: '' }, UNIQUE_NAME],
    ['client_id a number → unique_name', { client_id: 42 }, UNIQUE_NAME],
    ['client_id an array → unique_name', { client_id: ['svc'] }, UNIQUE_NAME],
    ['client_id an object → unique_name', { client_id: { id: 'svc' } }, UNIQUE_NAME],
    ['client_id null, azp a number → unique_name', { client_id: null, azp: 7 }, UNIQUE_NAME],
    ['client_id, azp and unique_name all "" → sub', { client_id: '', azp: '', unique_name: '', sub: 'svc-sub' }, 'svc-sub'],
    ['no unique_name → sub', { unique_name: undefined, sub: 'svc-sub' }, 'svc-sub'],
    ['unique_name a number → sub', { unique_name: 3, sub: 'svc-sub' }, 'svc-sub'],
    ['every candidate empty → ""', { client_id: '', azp: '', unique_name: '', sub: '' }, ''],
    ['every candidate absent → ""', { unique_name: undefined, sub: undefined }, ''],
  ])('%s', async (_case, claims, clientId) => {
    expect((await authOf(claims)).clientId).toBe(clientId);
  });

  it.each([
    ['a string', { sub: 'svc-sub' }, 'svc-sub'],
    ['an empty string (kept as is)', { sub: '' }, ''],
    ['a number', { sub: 42 }, null],
    ['an array', { sub: ['svc-sub'] }, null],
    ['absent', { sub: undefined }, null],
  ])('subject from sub as %s', async (_case, claims, subject) => {
    expect((await authOf(claims)).subject).toBe(subject);
  });
});
