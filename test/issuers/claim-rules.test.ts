/**
 * Claim rules (`claims`): exact values or lists, and functions. A failed rule is 401
 * invalid_token `claim_mismatch` with a fixed description; object rules are remembered with the
 * cached verification, function rules run on every request, cache hits included.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions, type ClaimRules } from 'cyberark-bearer';
import { configError } from '../support/config.js';
import { silent } from '../support/logger.js';
import { startApi, startTenants, type Api, type Tenants } from './harness.js';

const MISMATCH = { error: 'invalid_token', error_description: 'token claims not accepted' };
const CHALLENGE = 'Bearer realm="api", error="invalid_token", error_description="token claims not accepted"';

let tenants: Tenants;
beforeAll(async () => {
  tenants = await startTenants();
});
afterAll(() => tenants.close());

let api: Api | undefined;
afterEach(async () => {
  await api?.close();
  api = undefined;
});

async function start(options: Partial<BearerAuthOptions>): Promise<Api> {
  api = await startApi({ ...tenants.orders.options, ...options });
  return api;
}

/** A refusal for claim_mismatch: the fixed description, nothing of the claims, the reason in the log. */
async function expectMismatch(a: Api, token: string, detail?: string | RegExp): Promise<void> {
  const res = await a.get(token).expect(401);
  expect(res.body).toEqual(MISMATCH);
  expect(res.headers['www-authenticate']).toBe(CHALLENGE);
  const [line, ...more] = a.refusals();
  expect(more).toEqual([]);
  expect(line).toMatchObject({ reason: 'claim_mismatch', status: 401 });
  if (detail !== undefined) expect(line!.detail).toMatch(detail);
}

describe('claims: object rules', () => {
  const rules = { app_id: 'orders-api', tenant_type: ['prod', 'dr'], tier: [1, 2], internal: true };
  const good = { scope: 'orders.read', tenant_type: 'dr', tier: 2, internal: true };

  it('admits a token whose claims are each the value, or one of the list', async () => {
    const a = await start({ claims: rules });
    await a.get(tenants.orders.mint(good)).expect(200);
    await a.get(tenants.orders.mint({ ...good, tenant_type: 'prod', tier: 1 })).expect(200);
  });

  it.each<[string, Record<string, unknown>, string]>([
    ['a value not in the list', { tenant_type: 'dev' }, 'tenant_type'],
    ['another exact value', { app_id: 'billing' }, 'app_id'],
    ['an absent claim', { tier: undefined }, 'tier'],
    ['a number as a string', { tier: '2' }, 'tier'],
    ['a boolean as a string', { internal: 'true' }, 'internal'],
    ['false for true', { internal: false }, 'internal'],
    ['an array holding the value', { tenant_type: ['prod'] }, 'tenant_type'],
    ['null', { app_id: null }, 'app_id'],
  ])('refuses %s: 401 claim_mismatch, the claim named in the log, its value nowhere', async (_case, change, claim) => {
    const a = await start({ claims: rules });
    const token = tenants.orders.mint({ ...good, ...change });
    await expectMismatch(a, token, new RegExp(`^claim "${claim}"`));
    expect(a.log.text()).not.toContain('billing');
    expect(a.log.text()).not.toContain('dev');
  });

  it('reads only own claims: a claim inherited from a polluted prototype is absent', async () => {
    const a = await start({ claims: { role: 'admin' } });
    const polluted = Object.prototype as Record<string, unknown>;
    polluted.role = 'admin';
    try {
      await expectMismatch(a, tenants.orders.mint({ scope: 'orders.read' }), /role/);
    } finally {
      delete polluted.role;
    }
  });

  it('refuses again on every request: a refusal is never cached', async () => {
    const a = await start({ claims: { app_id: 'nope' } });
    const token = tenants.orders.mint({ scope: 'orders.read' });
    for (let i = 0; i < 3; i++) await expectMismatch(a, token);
  });

  it('per-issuer claims add to the shared ones: both must pass', async () => {
    const { orders, partner } = tenants;
    const a = await start({
      tenantUrl: undefined,
      appId: undefined,
      issuer: undefined,
      jwksUri: undefined,
      audience: undefined,
      claims: { tenant_type: 'prod' },
      issuers: [
        { ...orders.options, audience: 'orders' },
        { ...partner.options, audience: 'partner-orders', claims: { app_id: 'partner-gw' } },
      ],
    });
    await a.get(orders.mint({ scope: 'orders.read', tenant_type: 'prod' })).expect(200);
    await expectMismatch(a, orders.mint({ scope: 'orders.read' }), /tenant_type/);
    await a.get(partner.mint({ aud: 'partner-orders', scope: 'orders.read', tenant_type: 'prod' })).expect(200);
    await expectMismatch(
      a,
      partner.mint({ aud: 'partner-orders', scope: 'orders.read', tenant_type: 'prod', app_id: 'orders-api' }),
      /app_id/,
    );
    await expectMismatch(a, partner.mint({ aud: 'partner-orders', scope: 'orders.read' }), /tenant_type/);
  });

  it("an instance's cache never serves a token to an instance with other rules", async () => {
    const token = tenants.orders.mint({ scope: 'orders.read', app_id: 'billing' });
    const open = createBearerAuth({ ...tenants.orders.options, logger: silent, env: {} });
    await open.verify(token);
    expect(await open.verify(token)).toBe(await open.verify(token)); // cached
    const a = await start({ claims: { app_id: 'orders-api' } });
    await expectMismatch(a, token);
  });
});

describe('claims: function rules', () => {
  it('admits on true; refuses on a string (its reason, cut short, goes to the log), false or anything else', async () => {
    let verdict: unknown = true;
    const a = await start({ claims: () => verdict as true });
    const token = tenants.orders.mint({ scope: 'orders.read' });
    await a.get(token).expect(200);
    verdict = 'tenant suspended';
    await expectMismatch(a, token, /^tenant suspended$/);
    verdict = 'x'.repeat(1000);
    await expectMismatch(a, token);
    expect(String(a.refusals()[0]!.detail).length).toBeLessThanOrEqual(200);
    for (verdict of [false, undefined, 1, 'true', {}, null]) await expectMismatch(a, token);
  });

  it('is handed the verified claims and header, frozen', async () => {
    const seen: Array<[unknown, unknown]> = [];
    const a = await start({
      claims: (claims, header) => {
        seen.push([claims, header]);
        return claims.app_id === 'orders-api' && header.kid === tenants.orders.kid ? true : 'wrong app';
      },
    });
    await a.get(tenants.orders.mint({ scope: 'orders.read' })).expect(200);
    await expectMismatch(a, tenants.orders.mint({ scope: 'orders.read', app_id: 'x' }), 'wrong app');
    expect(seen).toHaveLength(2);
    expect(Object.isFrozen(seen[0]![0])).toBe(true);
    expect(Object.isFrozen(seen[0]![1])).toBe(true);
  });

  it('runs on every request, cache hits included: a rule that flips refuses the cached token', async () => {
    let allowed = true;
    let calls = 0;
    const a = await start({
      claims: () => {
        calls++;
        return allowed || 'revoked';
      },
    });
    const token = tenants.orders.mint({ scope: 'orders.read' });
    await a.get(token).expect(200);
    await a.get(token).expect(200); // admitted to the cache on its second verification
    const cached = await a.auth.verify(token);
    expect(await a.auth.verify(token)).toBe(cached); // a cache hit from now on
    allowed = false;
    await expectMismatch(a, token, 'revoked');
    await expect(a.auth.verify(token)).rejects.toMatchObject({ reason: 'claim_mismatch', detail: 'revoked' });
    allowed = true;
    await a.get(token).expect(200);
    expect(await a.auth.verify(token)).toBe(cached); // still the cached verification
    expect(calls).toBe(8);
  });

  it('runs once for each of concurrent requests that share one check', async () => {
    let calls = 0;
    const a = await start({
      claims: () => {
        calls++;
        return true;
      },
    });
    const token = tenants.orders.mint({ scope: 'orders.read' });
    // Started together, so the later two wait on the first one's check.
    const results = await Promise.all([a.auth.verify(token), a.auth.verify(token), a.auth.verify(token)]);
    expect(new Set(results).size).toBe(1);
    expect(calls).toBe(3);
  });

  it('fails closed when it throws, logging the error by name only', async () => {
    const a = await start({
      claims: (claims) => {
        throw new TypeError(`cannot read ${String(claims.sub)} from ${String(claims.secret_claim)}`);
      },
    });
    const token = tenants.orders.mint({ scope: 'orders.read', secret_claim: 'hunter2-value' });
    await expectMismatch(a, token, /threw/);
    expect(a.log.lines.filter((l) => l.msg !== 'bearer token refused')).toMatchObject([{ level: 40, errorName: 'TypeError' }]);
    expect(a.log.text()).not.toContain('hunter2-value');
    expect(a.log.text()).not.toContain('cannot read');
  });

  it('fails closed when it returns a promise, which may not reject unhandled', async () => {
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on('unhandledRejection', onUnhandled);
    try {
      const a = await start({ claims: (() => Promise.reject(new Error('late'))) as unknown as ClaimRules });
      await expectMismatch(a, tenants.orders.mint({ scope: 'orders.read' }), /promise/);
      await new Promise((resolve) => setImmediate(resolve));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });
});

describe('claims: configuration errors name the option', () => {
  const build =
    (claims: unknown, extra: Partial<BearerAuthOptions> = {}) =>
    () =>
      createBearerAuth({ ...tenants.orders.options, claims: claims as ClaimRules, logger: silent, env: {}, ...extra });

  it.each<[string, unknown, string, RegExp]>([
    ['a string', 'app_id=x', 'claims', /object of claim values or a function/],
    ['null', null, 'claims', /object of claim values or a function/],
    ['an array', [], 'claims', /object of claim values or a function/],
    ['an empty object', {}, 'claims', /at least one claim/],
    ['an empty list', { tenant_type: [] }, 'claims.tenant_type', /empty/],
    ['an object value', { tenant_type: { prod: true } }, 'claims.tenant_type', /string, number or boolean/],
    ['null as a value', { tenant_type: null }, 'claims.tenant_type', /string, number or boolean/],
    ['NaN', { tier: Number.NaN }, 'claims.tier', /finite/],
    ['Infinity in a list', { tier: [1, Infinity] }, 'claims.tier', /finite/],
    ['an async function', async () => Promise.resolve(true), 'claims', /synchronous/],
    ['an async generator', async function* rule() {}, 'claims', /synchronous/],
  ])('%s', (_case, claims, option, problem) => {
    const error = configError(build(claims));
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
  });

  it('names the entry for per-issuer rules', () => {
    const { orders } = tenants;
    expect(() =>
      createBearerAuth({
        issuers: [orders.options, { ...orders.options, issuer: 'https://x.example/', claims: { a: [] } }],
        logger: silent,
        env: {},
      }),
    ).toThrow(expect.objectContaining({ option: 'issuers[1].claims.a' }) as Error);
  });

  it('reads rules by their own properties only', () => {
    const rules = Object.create({ app_id: 'orders-api' }) as Record<string, unknown>;
    rules.tenant_type = 'prod';
    const { config } = createBearerAuth({ ...tenants.orders.options, claims: rules as ClaimRules, logger: silent, env: {} });
    expect(config.claims).toEqual({ tenant_type: 'prod' });
    expect(Object.isFrozen(config.claims)).toBe(true);
  });
});
