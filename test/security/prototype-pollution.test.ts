/**
 * Prototype pollution cannot reconfigure the library: options, their nested objects, the `env`
 * option and process.env count by their own properties only. Each case sets properties on
 * Object.prototype (removed again at once) while the options are read, and expects what the same
 * options give unpolluted: the same config, or the same ConfigError.
 */
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ConfigError, createBearerAuth, requireToken, type BearerAuthOptions } from 'cyberark-bearer';
import { createClientCredentials, type ClientCredentialsOptions } from 'cyberark-bearer/client';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { guardedApp } from '../support/apps.js';
import { captureLogger, silent } from '../support/logger.js';
import { scriptedServer, tokenAnswer } from '../support/scripted-server.js';

const proto = Object.prototype as Record<string, unknown>;
const ENV_NAMES = [
  'CYBERARK_TENANT_URL',
  'CYBERARK_APP_ID',
  'CYBERARK_ISSUER',
  'CYBERARK_JWKS_URI',
  'CYBERARK_AUDIENCE',
  'CYBERARK_CLIENT_ID',
  'CYBERARK_CLIENT_SECRET',
  'LOG_LEVEL',
];

/** Runs `read` with `pollution` set on Object.prototype as plain assignments do, then removes it. */
function polluted<T>(pollution: Record<string, unknown>, read: () => T): T {
  try {
    for (const [key, value] of Object.entries(pollution)) proto[key] = value;
    return read();
  } finally {
    for (const key of Object.keys(pollution)) delete proto[key];
  }
}

type Outcome = { config: Record<string, unknown>; logger: unknown } | { error: string; option: string };

/** The config built (its logger apart, compared by identity), or the ConfigError thrown. */
function outcome(build: () => { config: object }): Outcome {
  try {
    const { logger, ...config } = build().config as Record<string, unknown>;
    return { config, logger };
  } catch (error) {
    if (!(error instanceof ConfigError)) throw error;
    return { error: error.message, option: error.option };
  }
}

function expectUnchanged(pollution: Record<string, unknown>, build: () => { config: object }): void {
  const clean = outcome(build);
  const dirty = polluted(pollution, () => outcome(build));
  expect(dirty).toEqual(clean);
  if ('logger' in clean && 'logger' in dirty) expect(dirty.logger).toBe(clean.logger);
}

const TENANT = 'https://abc1234.id.cyberark.cloud';
const ATTACKER = 'https://attacker.example';
const AUDIENCE = 'https://api.example.com/orders';
const FULL: BearerAuthOptions = { tenantUrl: TENANT, appId: 'orders-api', audience: AUDIENCE, logger: silent, env: {} };
const otherLogger = captureLogger().logger;

/** `entries` and one missing entry after them: reading it falls through to Object.prototype. */
const sparse = (...entries: string[]): string[] => {
  const list = [...entries];
  list.length = entries.length + 1;
  return list;
};

beforeEach(() => {
  for (const name of ENV_NAMES) vi.stubEnv(name, undefined);
});
afterEach(() => {
  vi.unstubAllEnvs();
  expect(Object.keys(proto)).toEqual([]); // nothing left behind
});

describe('the jwksUri bypass', () => {
  let genuine: TestIssuer;
  let attacker: TestIssuer;
  beforeEach(async () => {
    genuine = await createTestIssuer({ appId: 'orders-api', audience: AUDIENCE });
    // The attacker's keys, publishing tokens that claim the genuine issuer.
    attacker = await createTestIssuer({ appId: 'orders-api', audience: AUDIENCE, issuer: genuine.issuer });
  });
  afterEach(async () => {
    await genuine.close();
    await attacker.close();
  });

  it('Object.prototype.jwksUri set before createBearerAuth(): keys come from the tenant, a forged token is refused', async () => {
    const options: BearerAuthOptions = {
      tenantUrl: genuine.url,
      appId: genuine.appId,
      audience: AUDIENCE,
      logger: silent,
      env: {},
    };
    const auth = polluted({ jwksUri: attacker.jwksUri }, () => createBearerAuth(options));
    await auth.ready();
    expect(attacker.jwksFetches).toBe(0);
    expect(genuine.jwksFetches).toBe(1);
    await expect(auth.verify(attacker.mint({ scope: 'orders.read' }))).rejects.toMatchObject({ status: 401 });
    await expect(auth.verify(genuine.mint({ scope: 'orders.read' }))).resolves.toMatchObject({ scopes: ['orders.read'] });
  });

  it('Object.prototype.CYBERARK_JWKS_URI with requireToken() reading process.env: a forged token gets 401', async () => {
    vi.stubEnv('CYBERARK_TENANT_URL', genuine.url);
    vi.stubEnv('CYBERARK_APP_ID', genuine.appId);
    vi.stubEnv('CYBERARK_AUDIENCE', AUDIENCE);
    const guard = polluted({ CYBERARK_JWKS_URI: attacker.jwksUri }, () => requireToken('orders.read', { logger: silent }));
    const app = guardedApp(guard, { path: '/orders' });
    await request(app)
      .get('/orders')
      .set('Authorization', `Bearer ${attacker.mint({ scope: 'orders.read' })}`)
      .expect(401);
    await request(app)
      .get('/orders')
      .set('Authorization', `Bearer ${genuine.mint({ scope: 'orders.read' })}`)
      .expect(200);
    expect(attacker.jwksFetches).toBe(0);
  });
});

describe('createBearerAuth(): a polluted prototype changes nothing', () => {
  const build = (options: BearerAuthOptions) => () => createBearerAuth(options);
  const { env: _env, ...fromProcessEnv } = FULL;
  const { audience: _audience, ...noAudience } = FULL;
  const { tenantUrl: _tenantUrl, ...noTenant } = FULL;
  const { appId: _appId, ...noAppId } = FULL;
  const { logger: _logger, ...noLogger } = FULL;

  it.each<[string, BearerAuthOptions, Record<string, unknown>]>([
    ['jwksUri', FULL, { jwksUri: `${ATTACKER}/jwks` }],
    ['issuer', FULL, { issuer: `${ATTACKER}/` }],
    ['audience, where none is given', noAudience, { audience: 'any-audience' }],
    ['tenantUrl, where none is given', noTenant, { tenantUrl: ATTACKER }],
    ['appId, where none is given', noAppId, { appId: 'other-app' }],
    ['allowInsecureHttp', FULL, { allowInsecureHttp: true }],
    [
      'allowInsecureHttp, with an http jwksUri',
      { ...FULL, jwksUri: 'http://keys.example.com/jwks' },
      { allowInsecureHttp: true },
    ],
    ['algorithms', FULL, { algorithms: ['PS256'] }],
    ['clockTolerance', FULL, { clockTolerance: 86_400 }],
    ['maxTokenAge', FULL, { maxTokenAge: 1 }],
    ['scopeClaim', FULL, { scopeClaim: 'sub' }],
    ['realm', FULL, { realm: 'other' }],
    ['onError', FULL, { onError: 'next' }],
    ['allowQueryToken, allowBodyToken', FULL, { allowQueryToken: true, allowBodyToken: true }],
    ['strict', FULL, { strict: true }],
    ['maxTokenLength', FULL, { maxTokenLength: 64 }],
    ['logger, where none is given', noLogger, { logger: otherLogger }],
    ['keyCache', FULL, { keyCache: { maxAge: 1, cooldown: 1, staleIfError: 0 } }],
    ['keyCache fields, keyCache unset', FULL, { maxAge: 1, cooldown: 1, timeout: 100, staleIfError: 0, maxBytes: 1e9 }],
    [
      'keyCache fields, keyCache given',
      { ...FULL, keyCache: { maxAge: 60 } },
      { maxAge: 1, cooldown: 1, timeout: 100, staleIfError: 0, maxBytes: 1e9 },
    ],
    ['tokenCache', FULL, { tokenCache: { max: 0 } }],
    ['tokenCache.max, tokenCache given', { ...FULL, tokenCache: {} }, { max: 0 }],
    ['env, where none is given', fromProcessEnv, { env: { CYBERARK_JWKS_URI: `${ATTACKER}/jwks`, LOG_LEVEL: 'silent' } }],
    ['an index, read through a sparse audience list', { ...FULL, audience: sparse(AUDIENCE) }, { 1: 'any-audience' }],
    [
      'an index, read through a sparse algorithm list',
      { ...FULL, algorithms: sparse('RS256') as BearerAuthOptions['algorithms'] },
      { 1: 'PS256' },
    ],
    ['an index, read through a sparse scopeClaim list', { ...FULL, scopeClaim: sparse('scope') }, { 1: 'sub' }],
  ])('option %s', (_case, options, pollution) => {
    expectUnchanged(pollution, build(options));
  });

  const ENV = { CYBERARK_TENANT_URL: TENANT, CYBERARK_APP_ID: 'orders-api', CYBERARK_AUDIENCE: AUDIENCE };
  const { CYBERARK_AUDIENCE: _aud, ...ENV_NO_AUDIENCE } = ENV;
  const envCases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ['CYBERARK_JWKS_URI', ENV, { CYBERARK_JWKS_URI: `${ATTACKER}/jwks` }],
    ['CYBERARK_ISSUER', ENV, { CYBERARK_ISSUER: `${ATTACKER}/` }],
    ['CYBERARK_AUDIENCE, where none is set', ENV_NO_AUDIENCE, { CYBERARK_AUDIENCE: 'any-audience' }],
    [
      'CYBERARK_TENANT_URL and CYBERARK_APP_ID, where none is set',
      { CYBERARK_AUDIENCE: AUDIENCE },
      { CYBERARK_TENANT_URL: ATTACKER, CYBERARK_APP_ID: 'x' },
    ],
    ['LOG_LEVEL', ENV, { LOG_LEVEL: 'silent' }],
  ];

  it.each(envCases)('env option: %s', (_case, env, pollution) => {
    expectUnchanged(pollution, build({ env }));
  });

  it.each(envCases)('process.env: %s', (_case, env, pollution) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    expectUnchanged(pollution, build({}));
  });

  it('scope requirements: an inherited allOf, anyOf or list entry counts for nothing', () => {
    const auth = createBearerAuth(FULL);
    expect(() => polluted({ anyOf: ['admin'] }, () => auth.requireToken({ allOf: ['orders.read'] }))).not.toThrow();
    expect(() =>
      polluted({ allOf: ['admin'] }, () => auth.requireToken({ anyOf: ['orders.read', 'orders.write'] })),
    ).not.toThrow();
    const holed = sparse('orders.read');
    const clean = /option "scopes" has an invalid scope undefined/;
    expect(() => auth.requireToken(holed)).toThrow(clean);
    expect(() => polluted({ 1: 'admin' }, () => auth.requireToken(holed))).toThrow(clean);
  });
});

describe('createClientCredentials(): a polluted prototype changes nothing', () => {
  const FULL_CLIENT: ClientCredentialsOptions = {
    tenantUrl: TENANT,
    appId: 'orders-api',
    clientId: 'svc@cyberark.cloud.1234',
    clientSecret: 'client-secret',
    logger: silent,
    env: {},
  };
  const build = (options: ClientCredentialsOptions) => () => createClientCredentials(options);
  const { clientSecret: _secret, ...noSecret } = FULL_CLIENT;
  const { clientId: _id, ...noId } = FULL_CLIENT;
  const { logger: _logger, ...noLogger } = FULL_CLIENT;
  const { env: _env, ...fromProcessEnv } = noSecret;

  it('Object.prototype.tokenUrl: the token request goes to the tenant, the attacker receives nothing', async () => {
    const trap = await scriptedServer([tokenAnswer('attacker-token')]);
    const issuer = await createTestIssuer({
      appId: 'orders-api',
      clients: [{ clientId: 'svc@cyberark.cloud.1234', clientSecret: 'client-secret', scopes: [] }],
    });
    try {
      const client = polluted({ tokenUrl: `${trap.url}/token` }, () =>
        createClientCredentials({ ...FULL_CLIENT, tenantUrl: issuer.url, appId: issuer.appId }),
      );
      expect(await client.getToken()).not.toBe('attacker-token');
      expect(trap.received).toEqual([]);
      expect(issuer.tokenRequests).toBe(1);
    } finally {
      await trap.close();
      await issuer.close();
    }
  });

  it.each<[string, ClientCredentialsOptions, Record<string, unknown>]>([
    ['tokenUrl', FULL_CLIENT, { tokenUrl: `${ATTACKER}/token` }],
    ['clientSecret, where none is given', noSecret, { clientSecret: 'guessed' }],
    ['clientId, where none is given', noId, { clientId: 'attacker' }],
    ['scope', FULL_CLIENT, { scope: 'admin' }],
    ['authMethod', FULL_CLIENT, { authMethod: 'basic' }],
    ['expirySkew', FULL_CLIENT, { expirySkew: 0 }],
    ['timeout', FULL_CLIENT, { timeout: 100 }],
    ['retry', FULL_CLIENT, { retry: { attempts: 10, maxElapsed: 100 } }],
    ['retry fields, retry given', { ...FULL_CLIENT, retry: {} }, { attempts: 10, maxElapsed: 100 }],
    [
      'allowInsecureHttp, with an http tokenUrl',
      { ...FULL_CLIENT, tokenUrl: 'http://token.example.com/token' },
      { allowInsecureHttp: true },
    ],
    ['logger, where none is given', noLogger, { logger: otherLogger }],
    ['env, where none is given', fromProcessEnv, { env: { CYBERARK_CLIENT_SECRET: 'guessed' } }],
    ['an index, read through a sparse scope list', { ...FULL_CLIENT, scope: sparse('orders.read') }, { 1: 'admin' }],
  ])('option %s', (_case, options, pollution) => {
    expectUnchanged(pollution, build(options));
  });

  const ENV = { CYBERARK_TENANT_URL: TENANT, CYBERARK_APP_ID: 'orders-api', CYBERARK_CLIENT_ID: 'svc@cyberark.cloud.1234' };
  const envCases: Array<[string, Record<string, string>, Record<string, unknown>]> = [
    ['CYBERARK_CLIENT_SECRET, where none is set', ENV, { CYBERARK_CLIENT_SECRET: 'guessed' }],
    [
      'CYBERARK_TENANT_URL, where none is set',
      { CYBERARK_APP_ID: 'orders-api', CYBERARK_CLIENT_ID: 'svc', CYBERARK_CLIENT_SECRET: 's' },
      { CYBERARK_TENANT_URL: ATTACKER },
    ],
    [
      'CYBERARK_CLIENT_ID, where none is set',
      { CYBERARK_TENANT_URL: TENANT, CYBERARK_APP_ID: 'orders-api', CYBERARK_CLIENT_SECRET: 's' },
      { CYBERARK_CLIENT_ID: 'attacker' },
    ],
    ['LOG_LEVEL', { ...ENV, CYBERARK_CLIENT_SECRET: 's' }, { LOG_LEVEL: 'silent' }],
  ];

  it.each(envCases)('env option: %s', (_case, env, pollution) => {
    expectUnchanged(pollution, build({ env }));
  });

  it.each(envCases)('process.env: %s', (_case, env, pollution) => {
    for (const [name, value] of Object.entries(env)) vi.stubEnv(name, value);
    expectUnchanged(pollution, build({}));
  });
});
