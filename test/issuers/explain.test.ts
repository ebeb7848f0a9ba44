/**
 * `auth.explain()` with several issuers and claim rules: it names the issuer a token was routed
 * to, holds it to that issuer's audience and settings, and shows a failed claim rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuth } from 'cyberark-bearer';
import { check, UNKNOWN_ISSUER_VERDICTS, verdicts } from '../support/explain.js';
import { silent } from '../support/logger.js';
import { startTenants, type Tenants } from './harness.js';

let tenants: Tenants;
let auth: BearerAuth;
beforeAll(async () => {
  tenants = await startTenants();
  const { orders, partner, staging } = tenants;
  auth = createBearerAuth({
    issuers: [
      { ...orders.options, audience: 'orders', claims: { app_id: 'orders-api' } },
      {
        ...partner.options,
        audience: 'partner-orders',
        algorithms: ['RS256', 'PS256'],
        claims: (c) => c.tenant_type === 'prod' || 'not a production tenant',
      },
      { issuer: staging.issuer, audience: 'orders' },
    ],
    logger: silent,
    env: {},
  });
});
afterAll(() => tenants.close());

describe('auth.explain() with several issuers', () => {
  it("an accepted token: the issuer that admitted it, and that issuer's settings as expected", async () => {
    const { partner } = tenants;
    const e = await auth.explain(partner.mint({ aud: 'partner-orders', tenant_type: 'prod' }));
    expect(e).toMatchObject({ valid: true, auth: { issuer: partner.issuer } });
    expect(check(e, 'issuer')).toMatchObject({ ok: true, found: JSON.stringify(partner.issuer) });
    expect(check(e, 'audience')).toEqual({
      check: 'audience',
      ok: true,
      found: '"partner-orders"',
      expected: `"partner-orders" (tokens of ${partner.issuer})`,
    });
    expect(check(e, 'algorithm')).toMatchObject({ ok: true, expected: '"RS256", "PS256"' });
    expect(check(e, 'key')!.expected).toBe(`"${partner.kid}" from ${partner.jwksUri}`);
    expect(check(e, 'claim_rules')).toMatchObject({ ok: true, expected: 'a function of the claims and header' });
  });

  it("app A's token with app B's audience: the audience check fails, expecting A's, with a hint", async () => {
    const { orders } = tenants;
    const e = await auth.explain(orders.mint({ aud: 'partner-orders' }));
    expect(e.refusal).toMatchObject({ reason: 'unexpected_audience' });
    expect(check(e, 'audience')).toEqual({
      check: 'audience',
      ok: false,
      found: '"partner-orders"',
      expected: `"orders" (tokens of ${orders.issuer})`,
      hint: `"partner-orders" is the audience of another issuer (${tenants.partner.issuer}): each issuer's tokens must name its own`,
    });
  });

  it('an unknown issuer: refused before the algorithm, listing every issuer', async () => {
    const { orders, partner, staging } = tenants;
    const e = await auth.explain(orders.mint({ iss: 'https://unknown.example/' }));
    expect(e.refusal).toMatchObject({ reason: 'unexpected_issuer' });
    expect(verdicts(e)).toMatchObject(UNKNOWN_ISSUER_VERDICTS);
    expect(check(e, 'issuer')!.expected).toBe(
      [orders.issuer, partner.issuer, staging.issuer].map((i) => JSON.stringify(i)).join(', '),
    );
  });

  it('a failed object rule: the claim_rules check fails, after every other check, showing the claims it reads', async () => {
    const { orders } = tenants;
    const e = await auth.explain(orders.mint({ app_id: 'billing' }));
    expect(e.refusal).toEqual({
      status: 401,
      error: 'invalid_token',
      reason: 'claim_mismatch',
      description: 'token claims not accepted',
    });
    const after = e.checks.findIndex((c) => c.check === 'claim_rules');
    expect(e.checks.slice(0, after).every((c) => c.ok === true)).toBe(true);
    expect(check(e, 'claim_rules')).toEqual({
      check: 'claim_rules',
      ok: false,
      found: 'app_id "billing"',
      expected: 'app_id "orders-api"',
      hint: 'claim "app_id" not accepted',
    });
  });

  it('a failed function rule: its reason as the hint', async () => {
    const { partner } = tenants;
    const e = await auth.explain(partner.mint({ aud: 'partner-orders', tenant_type: 'dev' }));
    expect(e.refusal).toMatchObject({ reason: 'claim_mismatch' });
    expect(check(e, 'claim_rules')).toMatchObject({ ok: false, hint: 'not a production tenant' });
  });

  it('no claim_rules check for an issuer without rules', async () => {
    const e = await auth.explain(tenants.staging.mint({ aud: 'orders' }));
    expect(e.valid).toBe(true);
    expect(check(e, 'claim_rules')).toBeUndefined();
  });
});
