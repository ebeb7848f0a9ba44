/**
 * The `tokens` and `introspection` options: validated at construction into a frozen config that
 * never holds the secret, read from CYBERARK_* variables when not given, every mistake a
 * ConfigError naming the option (and never repeating a secret).
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { configError as configErrorOf } from '../support/config.js';
import { silent } from '../support/logger.js';

const TENANT = 'https://abc1234.id.cyberark.cloud';
const BASE = { tenantUrl: TENANT, appId: 'orders-api', audience: 'orders-api', logger: silent, env: {} };
const CLIENT = { clientId: 'svc-orders-api@cyberark.cloud.1234', clientSecret: 'Sup3r-secret-value' };

/** The ConfigError `options` cause, which never repeats the client secret. */
function configError(options: BearerAuthOptions): ConfigError {
  const error = configErrorOf(() => createBearerAuth(options));
  expect(error.message).not.toContain(CLIENT.clientSecret);
  return error;
}

describe('tokens', () => {
  it("defaults to 'jwt', without introspection", () => {
    const { config } = createBearerAuth(BASE);
    expect(config.tokens).toBe('jwt');
    expect(config.introspection).toBeUndefined();
  });

  it('is read from CYBERARK_TOKENS', () => {
    const env = {
      CYBERARK_TOKENS: ' any ',
      CYBERARK_INTROSPECTION_CLIENT_ID: CLIENT.clientId,
      CYBERARK_INTROSPECTION_CLIENT_SECRET: CLIENT.clientSecret,
    };
    expect(createBearerAuth({ ...BASE, env }).config.tokens).toBe('any');
  });

  it.each([['JWT'], ['both'], [5]])('refuses %s', (tokens) => {
    const error = configError({ ...BASE, tokens: tokens as 'jwt' });
    expect(error.option).toBe('tokens');
    expect(error.message).toMatch(/must be "jwt", "opaque" or "any"/);
  });

  it.each([['opaque'], ['any']] as const)("'%s' requires introspection, naming its variable", (tokens) => {
    const error = configError({ ...BASE, tokens });
    expect(error.option).toBe('introspection.clientId');
    expect(error.message).toContain('CYBERARK_INTROSPECTION_CLIENT_ID');
  });
});

describe('introspection', () => {
  it('defaults to CyberArk’s endpoint of the app, 30 s, 10 s, 16 calls in flight, 50 new tokens per second', () => {
    const { config } = createBearerAuth({ ...BASE, tokens: 'opaque', introspection: CLIENT });
    expect(config.introspection).toEqual({
      url: `${TENANT}/OAuth2/Introspect/orders-api`,
      clientId: CLIENT.clientId,
      cacheTtl: 30,
      negativeCacheTtl: 10,
      maxConcurrent: 16,
      newTokensPerSecond: 50,
    });
    expect(Object.isFrozen(config.introspection)).toBe(true);
    expect(JSON.stringify(config)).not.toContain(CLIENT.clientSecret);
  });

  it('is configured from the environment alone, the secret read as given (not trimmed)', () => {
    const env = {
      CYBERARK_INTROSPECTION_CLIENT_ID: CLIENT.clientId,
      CYBERARK_INTROSPECTION_CLIENT_SECRET: ' padded ',
      CYBERARK_INTROSPECTION_URL: 'https://idp.example.com/introspect',
    };
    const { config } = createBearerAuth({ ...BASE, env });
    expect(config.introspection).toMatchObject({ url: 'https://idp.example.com/introspect', clientId: CLIENT.clientId });
  });

  it.each<[string, BearerAuthOptions['introspection'], string, RegExp]>([
    ['a string', 'svc' as never, 'introspection', /must be an object, got a string/],
    [
      'an unknown key',
      { ...CLIENT, ttl: 5 } as never,
      'introspection.ttl',
      /is not an option \(known: clientId, clientSecret, url/,
    ],
    ['no clientId', { clientSecret: CLIENT.clientSecret }, 'introspection.clientId', /is required/],
    ['no clientSecret', { clientId: CLIENT.clientId }, 'introspection.clientSecret', /is required/],
    [
      'a secret with a line feed',
      { ...CLIENT, clientSecret: `${CLIENT.clientSecret}\n` },
      'introspection.clientSecret',
      /without control characters, got a string$/,
    ],
    ['a negative cacheTtl', { ...CLIENT, cacheTtl: -1 }, 'introspection.cacheTtl', /at least 0/],
    ['maxConcurrent 0', { ...CLIENT, maxConcurrent: 0 }, 'introspection.maxConcurrent', /integer from 1 to 1024/],
    [
      'newTokensPerSecond 0.5',
      { ...CLIENT, newTokensPerSecond: 0.5 },
      'introspection.newTokensPerSecond',
      /integer from 1 to 100000/,
    ],
    ['an ftp url', { ...CLIENT, url: 'ftp://idp.example.com/x' }, 'introspection.url', /must be an https URL/],
  ])('refuses %s', (_case, introspection, option, message) => {
    const error = configError({ ...BASE, introspection });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });

  it('is found by discovery with a single issuer URL, and must be given otherwise', () => {
    const issuer = 'https://idp.example.com/orders-api/';
    const discovered = createBearerAuth({
      issuer,
      audience: 'x',
      tokens: 'opaque',
      introspection: CLIENT,
      logger: silent,
      env: {},
    });
    expect(discovered.config.introspection?.url).toBeUndefined();
    const several = configError({
      issuer: [issuer, 'https://idp.example.com/other/'],
      audience: 'x',
      introspection: CLIENT,
      env: {},
    });
    expect(several.option).toBe('introspection.url');
    const custom = configError({
      issuer: 'urn:orders',
      jwksUri: `${TENANT}/OAuth2/Keys/orders-api`,
      audience: 'x',
      introspection: CLIENT,
      env: {},
    });
    expect(custom.option).toBe('introspection.url');
  });
});
