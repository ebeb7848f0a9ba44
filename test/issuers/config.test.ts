/**
 * The `issuers` option at construction: every mistake a ConfigError naming the option (down to
 * `issuers[2].audience`), and instances sharing a verifier exactly when their tables are equal.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { configError as configErrorOf } from '../support/config.js';
import { silent } from '../support/logger.js';

const TENANT = 'https://abc1234.id.cyberark.cloud';
const ISSUERS = [
  { tenantUrl: TENANT, appId: 'orders-api', audience: 'orders' },
  { tenantUrl: 'https://xyz9876.id.cyberark.cloud', appId: 'partner-gw', audience: 'partner-orders' },
  { issuer: 'https://sts.example/', jwksUri: 'https://sts.example/keys', audience: 'orders' },
  { issuer: 'https://other.example/app/', audience: 'orders' },
] as const;

const configError = (options: unknown) =>
  configErrorOf(() => createBearerAuth({ logger: silent, env: {}, ...(options as BearerAuthOptions) }));

describe('issuers: construction', () => {
  it("resolves the issue's example: each issuer, its audience and where its keys come from", () => {
    const { config } = createBearerAuth({ issuers: ISSUERS, logger: silent, env: {} });
    expect(config.perIssuer.map(({ issuer, audiences, jwksUri }) => ({ issuer, audiences, jwksUri }))).toEqual([
      { issuer: `${TENANT}/orders-api/`, audiences: ['orders'], jwksUri: `${TENANT}/OAuth2/Keys/orders-api` },
      {
        issuer: 'https://xyz9876.id.cyberark.cloud/partner-gw/',
        audiences: ['partner-orders'],
        jwksUri: 'https://xyz9876.id.cyberark.cloud/OAuth2/Keys/partner-gw',
      },
      { issuer: 'https://sts.example/', audiences: ['orders'], jwksUri: 'https://sts.example/keys' },
      { issuer: 'https://other.example/app/', audiences: ['orders'], jwksUri: undefined },
    ]);
    expect(config.issuers).toEqual(config.perIssuer.map((i) => i.issuer));
    expect(config.audiences).toEqual(['orders', 'partner-orders']);
  });

  it('gives every issuer the shared settings unless its entry overrides them', () => {
    const { config } = createBearerAuth({
      issuers: [{ ...ISSUERS[0], scopeClaim: 'scp', algorithms: ['PS256'], clockTolerance: 5, maxTokenAge: 60 }, ISSUERS[1]],
      algorithms: ['RS256', 'RS384'],
      clockTolerance: 10,
      scopeClaim: ['permissions'],
      logger: silent,
      env: {},
    });
    expect(
      config.perIssuer.map(({ algorithms, clockTolerance, maxTokenAge, scopeClaims }) => ({
        algorithms,
        clockTolerance,
        maxTokenAge,
        scopeClaims,
      })),
    ).toEqual([
      { algorithms: ['PS256'], clockTolerance: 5, maxTokenAge: 60, scopeClaims: ['scp'] },
      { algorithms: ['RS256', 'RS384'], clockTolerance: 10, maxTokenAge: undefined, scopeClaims: ['permissions'] },
    ]);
  });

  it("accepts the test kit issuers' options as entries", async () => {
    const a = await createTestIssuer({ appId: 'a-app' });
    const b = await createTestIssuer({ appId: 'b-app' });
    try {
      const auth = createBearerAuth({ issuers: [a.options, b.options], logger: silent, env: {} });
      expect(auth.config.issuers).toEqual([a.issuer, b.issuer]);
      expect((await auth.verify(b.mint())).issuer).toBe(b.issuer);
    } finally {
      await a.close();
      await b.close();
    }
  });

  it('does not read the single-issuer env vars when issuers is given', () => {
    const env = {
      CYBERARK_TENANT_URL: 'https://elsewhere.example',
      CYBERARK_APP_ID: 'x',
      CYBERARK_AUDIENCE: 'x',
      CYBERARK_ISSUER: 'https://x.example/',
    };
    const { config } = createBearerAuth({ issuers: [ISSUERS[0]], logger: silent, env });
    expect(config.issuers).toEqual([`${TENANT}/orders-api/`]);
    expect(config.audiences).toEqual(['orders']);
  });

  it('keeps the single-issuer options working as before, as a table of one', () => {
    const { config } = createBearerAuth({
      tenantUrl: TENANT,
      appId: 'orders-api',
      audience: ['orders', 'legacy'],
      logger: silent,
      env: {},
    });
    expect(config.perIssuer).toEqual([
      {
        issuer: `${TENANT}/orders-api/`,
        audiences: ['orders', 'legacy'],
        audienceComparison: 'exact',
        jwksUri: `${TENANT}/OAuth2/Keys/orders-api`,
        algorithms: ['RS256'],
        clockTolerance: 30,
        maxTokenAge: undefined,
        scopeClaims: ['scope', 'scp'],
        claims: [],
      },
    ]);
  });
});

describe('issuers: configuration errors name the option', () => {
  it.each(['tenantUrl', 'appId', 'issuer', 'jwksUri', 'audience'] as const)('%s at the top level with issuers', (name) => {
    const value = name === 'tenantUrl' ? TENANT : name === 'jwksUri' || name === 'issuer' ? 'https://x.example/' : 'x';
    const error = configError({ issuers: ISSUERS, [name]: value });
    expect(error.option).toBe(name);
    expect(error.message).toMatch(/issuers/);
  });

  it.each<[string, unknown, string, RegExp]>([
    ['an empty list', [], 'issuers', /at least one/],
    ['not an array', ISSUERS[0], 'issuers', /array/],
    ['an entry that is not an object', [ISSUERS[0], 'https://x.example/'], 'issuers[1]', /object/],
    ['an entry without audience', [ISSUERS[0], ISSUERS[1], { issuer: 'https://x.example/' }], 'issuers[2].audience', /required/],
    ['an empty audience list', [{ ...ISSUERS[0], audience: [] }], 'issuers[0].audience', /empty/],
    ['an entry naming no issuer', [{ audience: 'x' }], 'issuers[0].tenantUrl', /required/],
    ['tenantUrl without appId', [{ tenantUrl: TENANT, audience: 'x' }], 'issuers[0].appId', /required/],
    ['a bad tenantUrl', [ISSUERS[0], { tenantUrl: 'ftp://x', appId: 'a', audience: 'x' }], 'issuers[1].tenantUrl', /https/],
    ['a bad jwksUri', [{ issuer: 'https://x.example/', jwksUri: 'not a url', audience: 'x' }], 'issuers[0].jwksUri', /URL/],
    ['plain http for a discovered issuer', [{ issuer: 'http://x.example/', audience: 'x' }], 'issuers[0].issuer', /https/],
    [
      'an issuer list in one entry',
      [{ issuer: ['https://a.example/'], jwksUri: 'https://a.example/k', audience: 'x' }],
      'issuers[0].issuer',
      /string/,
    ],
    ['an unknown name in an entry', [{ ...ISSUERS[0], realm: 'x' }], 'issuers[0].realm', /not an option/],
    ['a shared-only name in an entry', [{ ...ISSUERS[0], keyCache: {} }], 'issuers[0].keyCache', /not an option/],
    ['a bad override', [ISSUERS[0], { ...ISSUERS[1], clockTolerance: -1 }], 'issuers[1].clockTolerance', /at least 0/],
    ['HMAC in an override', [{ ...ISSUERS[0], algorithms: ['HS256'] }], 'issuers[0].algorithms', /HMAC/],
    ['an empty scopeClaim', [{ ...ISSUERS[0], scopeClaim: [] }], 'issuers[0].scopeClaim', /claim name/],
  ])('%s', (_case, issuers, option, problem) => {
    const error = configError({ issuers });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(problem);
  });

  it('an issuer listed twice, however it is spelled', () => {
    const twice = configError({
      issuers: [ISSUERS[0], { issuer: `${TENANT}/orders-api/`, jwksUri: `${TENANT}/keys`, audience: 'y' }],
    });
    expect(twice.option).toBe('issuers[1].issuer');
    expect(twice.message).toMatch(/issuers\[0\]/);
  });

  it('reads entries by their own properties only', () => {
    const inherited = Object.create({ audience: 'orders' }) as Record<string, unknown>;
    Object.assign(inherited, { tenantUrl: TENANT, appId: 'orders-api' });
    expect(configError({ issuers: [inherited] }).option).toBe('issuers[0].audience');
  });
});

describe('issuers: instances share a verifier exactly when their tables are equal', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ appId: 'share-app', audience: 'share-api' });
  });
  afterAll(() => issuer.close());

  /** Only a shared verifier's token cache hands back the very object another instance cached. */
  async function shares(a: BearerAuthOptions, b: BearerAuthOptions): Promise<boolean> {
    const token = issuer.mint({ jti: String(Math.random()) });
    const first = createBearerAuth({ logger: silent, env: {}, ...a });
    await first.verify(token);
    const cached = await first.verify(token);
    return (await createBearerAuth({ logger: silent, env: {}, ...b }).verify(token)) === cached;
  }
  const entry = () => ({ ...issuer.options });
  const other = { issuer: 'https://other.example/', jwksUri: 'https://other.example/keys', audience: 'other' };

  it('shares it for equal tables', async () => {
    expect(await shares({ issuers: [entry(), other] }, { issuers: [entry(), other] })).toBe(true);
  });

  it('tells claim rule functions apart by identity: the same function shares, another does not', async () => {
    const rule = () => true;
    expect(await shares({ ...entry(), claims: rule }, { ...entry(), claims: rule })).toBe(true);
    expect(await shares({ ...entry(), claims: rule }, { ...entry(), claims: () => true })).toBe(false);
    expect(await shares({ issuers: [{ ...entry(), claims: rule }] }, { issuers: [{ ...entry(), claims: () => true }] })).toBe(
      false,
    );
  });

  it('builds its own for other claim values', async () => {
    expect(
      await shares({ ...entry(), claims: { app_id: 'share-app' } }, { ...entry(), claims: { app_id: ['share-app', 'x'] } }),
    ).toBe(false);
  });

  it.each<[string, BearerAuthOptions['issuers']]>([
    ["another entry's audience", [{ ...other, audience: 'other2' }]],
    ['another entry', [{ ...other, issuer: 'https://other2.example/' }]],
    ["an entry's override", [{ ...other, clockTolerance: 1 }]],
  ])('builds its own when they differ in %s', async (_case, rest) => {
    expect(await shares({ issuers: [entry(), other] }, { issuers: [entry(), ...rest!] })).toBe(false);
  });
});
