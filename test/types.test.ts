/**
 * What strict TypeScript users get: `req.auth` typed with no casts, custom claims by
 * declaration merging, and `requireToken('a', 'b')` rejected by the compiler. The type
 * assertions fail `npm run typecheck`; the runtime ones fail `npm test`.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, expectTypeOf, it } from 'vitest';
import { createBearerAuth, requireToken, type AuthInfo, type BearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { silent } from './support/logger.js';

declare module 'cyberark-bearer' {
  interface CustomClaims {
    tenant_role?: 'admin' | 'reader';
  }
}

interface BillingClaims {
  readonly billing_account: string;
}

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'typed' });
});
afterAll(() => issuer.close());

describe('types', () => {
  it('types req.auth and custom claims on a guarded route', async () => {
    const auth = createBearerAuth({ ...issuer.options, logger: silent });
    const app = express();
    app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
      expectTypeOf(req.auth.clientId).toEqualTypeOf<string>();
      expectTypeOf(req.auth.scopes).toEqualTypeOf<string[]>();
      expectTypeOf(req.auth.claims.iss).toEqualTypeOf<string>();
      expectTypeOf(req.auth.claims.exp).toEqualTypeOf<number>();
      expectTypeOf(req.auth.claims.tenant_role).toEqualTypeOf<'admin' | 'reader' | undefined>();
      res.json({ role: req.auth.claims.tenant_role ?? null, caller: req.auth.clientId });
    });
    const res = await request(app)
      .get('/orders')
      .set('Authorization', `Bearer ${issuer.mint({ scope: 'orders.read', tenant_role: 'admin' })}`)
      .expect(200);
    expect(res.body).toEqual({ role: 'admin', caller: 'test-client@cyberark.cloud.0000' });
  });

  it('types verify() and authOf() with an instance claims type', async () => {
    const billing: BearerAuth<BillingClaims> = createBearerAuth<BillingClaims>({ ...issuer.options, logger: silent });
    const verified = await billing.verify(issuer.mint({ billing_account: 'acct-7' }));
    expectTypeOf(verified).toEqualTypeOf<AuthInfo<BillingClaims>>();
    expectTypeOf(verified.claims.billing_account).toEqualTypeOf<string>();
    expect(verified.claims.billing_account).toBe('acct-7');
    expect(() => billing.authOf({})).toThrow(/req\.auth is not set/);
  });

  it('rejects two scope arguments at compile time and at run time', () => {
    const env = { ...issuer.options, logger: silent };
    // @ts-expect-error -- a second string is not options: write ['a', 'b'] or { anyOf: [...] }
    expect(() => requireToken('orders.read', 'orders.write')).toThrow(/takes one scope requirement/);
    const auth = createBearerAuth(env);
    // @ts-expect-error -- the method takes one requirement
    expect(() => auth.requireToken('orders.read', 'orders.write')).toThrow(/takes one scope requirement/);
    // @ts-expect-error -- anyOf and allOf cannot be combined
    expect(() => auth.requireToken({ anyOf: ['a'], allOf: ['b'] })).toThrow(/exactly one of allOf or anyOf/);
  });
});
