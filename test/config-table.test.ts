/**
 * The options tables: every option the types declare is accepted and nothing else is (not even
 * a name Object.prototype has), and instances share a verifier exactly when they would verify
 * alike.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createClientCredentials, type ClientCredentialsOptions } from 'cyberark-bearer/client';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { configError } from './support/config.js';
import { captureLogger, silent } from './support/logger.js';

const TENANT = 'https://abc1234.id.cyberark.cloud';

/** Every option with a valid value: a compile error when the interface gains or loses one. */
const EVERY_OPTION: { [K in keyof BearerAuthOptions]-?: BearerAuthOptions[K] } = {
  tenantUrl: TENANT,
  appId: 'inventoryapi',
  issuer: `${TENANT}/inventoryapi/`,
  jwksUri: `${TENANT}/OAuth2/Keys/inventoryapi`,
  resource: 'https://api.example.com/mcp',
  audience: 'api',
  issuers: undefined, // instead of the five above: test/issuers/config.test.ts
  algorithms: ['RS256'],
  clockTolerance: 30,
  maxTokenAge: 600,
  scopeClaim: 'scope',
  claims: { app_id: 'inventoryapi' },
  realm: 'api',
  logger: silent,
  onError: 'respond',
  allowQueryToken: false,
  allowBodyToken: false,
  strict: false,
  maxTokenLength: 16_384,
  keyCache: { maxAge: 600, cooldown: 30, timeout: 5, staleIfError: 3600, maxBytes: 262_144 },
  tokenCache: { max: 10 },
  allowInsecureHttp: false,
  tokens: 'any',
  introspection: {
    clientId: 'svc-api@cyberark.cloud.1234',
    clientSecret: 'secret',
    url: `${TENANT}/OAuth2/Introspect/inventoryapi`,
    cacheTtl: 30,
    negativeCacheTtl: 10,
    maxConcurrent: 16,
    newTokensPerSecond: 50,
  },
  env: {},
};

const EVERY_CLIENT_OPTION: { [K in keyof ClientCredentialsOptions]-?: ClientCredentialsOptions[K] } = {
  tenantUrl: TENANT,
  appId: 'inventoryapi',
  tokenUrl: `${TENANT}/oauth2/token/inventoryapi`,
  clientId: 'svc@cyberark.cloud.1234',
  clientSecret: 'secret',
  scope: 'orders.read',
  authMethod: 'body',
  expirySkew: 60,
  timeout: 5,
  retry: { attempts: 3, maxElapsed: 10 },
  logger: silent,
  allowInsecureHttp: false,
  env: {},
};

/** Names that are no option: near misses, and what every object inherits. */
const NOT_OPTIONS = ['audiences', 'TenantUrl', 'jwks_uri', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', '__proto__'];

/** `options` with `name` as an own property, even `__proto__`. */
function withOwn(options: object, name: string): object {
  return Object.defineProperty({ ...options }, name, { value: 1, enumerable: true });
}

describe('option names', () => {
  it('createBearerAuth() accepts every option it declares, nested ones included', () => {
    expect(createBearerAuth(EVERY_OPTION).config.tokenCache).toEqual({ max: 10 });
  });

  it.each(NOT_OPTIONS)('createBearerAuth() refuses %s', (name) => {
    const error = configError(() => createBearerAuth(withOwn(EVERY_OPTION, name)));
    expect(error.option).toBe(name);
    expect(error.message).toMatch(/is not an option of cyberark-bearer/);
  });

  it.each(NOT_OPTIONS)('createBearerAuth() refuses %s inside keyCache, tokenCache and introspection', (name) => {
    expect(
      configError(() => createBearerAuth({ ...EVERY_OPTION, introspection: withOwn(EVERY_OPTION.introspection!, name) })).option,
    ).toBe(`introspection.${name}`);
    expect(configError(() => createBearerAuth({ ...EVERY_OPTION, keyCache: withOwn({}, name) })).option).toBe(`keyCache.${name}`);
    expect(configError(() => createBearerAuth({ ...EVERY_OPTION, tokenCache: withOwn({}, name) })).option).toBe(
      `tokenCache.${name}`,
    );
  });

  it('createClientCredentials() accepts every option it declares, nested ones included', () => {
    expect(createClientCredentials(EVERY_CLIENT_OPTION).config.retry).toEqual({ attempts: 3, maxElapsed: 10 });
  });

  it.each(NOT_OPTIONS)('createClientCredentials() refuses %s, at the top and inside retry', (name) => {
    const error = configError(() => createClientCredentials(withOwn(EVERY_CLIENT_OPTION, name)));
    expect(error.option).toBe(name);
    expect(error.message).toMatch(/is not an option of createClientCredentials/);
    expect(configError(() => createClientCredentials({ ...EVERY_CLIENT_OPTION, retry: withOwn({}, name) })).option).toBe(
      `retry.${name}`,
    );
  });
});

describe('instances share a verifier exactly when they verify alike', () => {
  let issuer: TestIssuer;
  beforeAll(async () => {
    issuer = await createTestIssuer({ appId: 'table-app', audience: 'table-api' });
  });
  afterAll(async () => {
    await issuer.close();
  });

  /** Only the verified-token cache of a shared verifier hands back the very object it holds. */
  async function shares(change: Partial<BearerAuthOptions>): Promise<boolean> {
    const options = { ...issuer.options, logger: silent };
    // New to every verifier, and valid under every change below, strict included.
    const token = issuer.mint({ client_id: 'svc', jti: randomUUID() }, { typ: 'at+jwt' });
    const first = createBearerAuth(options);
    await first.verify(token);
    const cached = await first.verify(token); // admitted on its second verification
    const second = createBearerAuth({ ...options, ...change });
    return (await second.verify(token)) === cached;
  }

  it.each<[string, Partial<BearerAuthOptions>]>([
    ['nothing', {}],
    ['realm', { realm: 'other' }],
    ['onError', { onError: 'next' }],
    ['allowQueryToken', { allowQueryToken: true }],
    ['allowBodyToken', { allowBodyToken: true }],
    ['resource, beside an audience', { resource: 'https://api.example.com/mcp' }],
    // JWTs are verified alike whatever is introspected.
    ['tokens and introspection', { tokens: 'any', introspection: { clientId: 'svc', clientSecret: 'secret' } }],
  ])('shares it when they differ in %s', async (_field, change) => {
    expect(await shares(change)).toBe(true);
  });

  it.each<[string, (i: TestIssuer) => Partial<BearerAuthOptions>]>([
    ['issuer', (i) => ({ issuer: [i.issuer, 'https://other.example/'] })],
    ['audience', (i) => ({ audience: [i.audience as string, 'other-api'] })],
    ['jwksUri', (i) => ({ jwksUri: `${i.jwksUri}?copy` })],
    ['algorithms', () => ({ algorithms: ['RS256', 'PS256'] })],
    ['clockTolerance', () => ({ clockTolerance: 5 })],
    ['maxTokenAge', () => ({ maxTokenAge: 600 })],
    ['scopeClaim', () => ({ scopeClaim: 'scp' })],
    ['strict', () => ({ strict: true })],
    ['maxTokenLength', () => ({ maxTokenLength: 8192 })],
    ['keyCache', () => ({ keyCache: { maxAge: 60 } })],
    ['tokenCache', () => ({ tokenCache: { max: 5 } })],
    ['allowInsecureHttp', () => ({ allowInsecureHttp: true })],
    ['logger', () => ({ logger: captureLogger().logger })],
  ])('builds its own when they differ in %s', async (_field, change) => {
    expect(await shares(change(issuer))).toBe(false);
  });
});
