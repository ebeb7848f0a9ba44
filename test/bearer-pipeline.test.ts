/**
 * One path for a request: the middleware and `authenticate(req)` run the same steps, so they
 * refuse alike and log alike, and a token verified before is answered without a promise.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, InsufficientScopeError, type AuthInfo, type BearerError } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { BearerAuthenticator } from '../src/bearer/authenticate.js';
import { compileRequirement } from '../src/scopes.js';
import { captureLogger, silent } from './support/logger.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'pipeline-app', audience: 'pipeline-api' });
});
afterAll(() => issuer.close());

describe('the request pipeline', () => {
  it('refuses a token lacking a scope with the same facts from authenticate() as the middleware logs', async () => {
    const log = captureLogger('info');
    const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {} });
    const token = issuer.mint({ sub: 'svc-reports', scope: 'reports.read' });
    const app = express().get('/orders', auth.requireToken('orders.read'), (_req, res) => res.end());
    await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(403);
    const logged = log.lines.find((line) => line.msg === 'bearer token refused');
    expect(logged).toMatchObject({ reason: 'insufficient_scope', sub: 'svc-reports', kid: issuer.kid });

    const error = (await auth
      .authenticate({ headers: { authorization: `Bearer ${token}` } }, 'orders.read')
      .catch((e: unknown) => e)) as BearerError;
    expect(error).toBeInstanceOf(InsufficientScopeError);
    expect(error).toMatchObject({ status: 403, subject: 'svc-reports', kid: issuer.kid });
  });

  it('answers a token verified before with its AuthInfo itself, not a promise', async () => {
    const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
    const token = issuer.mint({ scope: 'orders.read' });
    const req = { headers: { authorization: `Bearer ${token}` } };
    // Any verifier with a synchronous cache fits the pipeline (an introspection client would too).
    const cache = new Map<string, AuthInfo<object>>();
    const verifier = { cached: (t: string) => cache.get(t), verifyUncached: (t: string) => auth.verify(t) };
    const pipeline = new BearerAuthenticator(verifier, { allowQueryToken: false, allowBodyToken: false });
    const requirement = compileRequirement('orders.read');

    const first = pipeline.authenticate(req, requirement);
    expect(first).toBeInstanceOf(Promise);
    cache.set(token, await first);
    const hit = pipeline.authenticate(req, requirement);
    expect(hit).not.toBeInstanceOf(Promise);
    expect(hit).toBe(cache.get(token));
    // A cached token still meets every route's requirement, synchronously.
    expect(() => pipeline.authenticate(req, compileRequirement('orders.write'))).toThrow(InsufficientScopeError);
  });

  it('turns a failed token outside the b64token alphabet into a malformed request, for both callers', async () => {
    const auth = createBearerAuth({ ...issuer.options, logger: silent, env: {} });
    const app = express().get('/orders', auth.requireToken(), (_req, res) => res.end());
    const token = `${issuer.mint()}!`;
    const res = await request(app).get('/orders').set('Authorization', `Bearer ${token}`).expect(400);
    expect(res.body).toMatchObject({ error: 'invalid_request' });
    await expect(auth.authenticate({ headers: { authorization: `Bearer ${token}` } })).rejects.toMatchObject({
      status: 400,
      reason: 'malformed_request',
    });
  });
});
