/**
 * Configuration is validated once, at construction: every mistake throws a ConfigError that
 * names the option (and its env var) and what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { silent } from './helpers.js';

const TENANT = 'https://abc1234.id.cyberark.cloud';
const base: BearerAuthOptions = { tenantUrl: TENANT, appId: 'inventoryapi', audience: 'https://api.example.com/inventory', logger: silent, env: {} };

function configError(options: unknown): ConfigError {
  try {
    createBearerAuth(options as BearerAuthOptions);
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('defaults', () => {
  it('derives issuer (with trailing slash) and JWKS URL from tenantUrl and appId', () => {
    const { config } = createBearerAuth(base);
    expect(config.issuers).toEqual(['https://abc1234.id.cyberark.cloud/inventoryapi/']);
    expect(config.jwksUri).toBe('https://abc1234.id.cyberark.cloud/OAuth2/Keys/inventoryapi');
    expect(config.audiences).toEqual(['https://api.example.com/inventory']);
    expect(config.algorithms).toEqual(['RS256']);
    expect(config.clockTolerance).toBe(30);
    expect(config.maxTokenAge).toBeUndefined();
    expect(config.scopeClaims).toEqual(['scope', 'scp']);
    expect(config.realm).toBe('api');
    expect(config.keyCache).toEqual({ maxAge: 600, cooldown: 30, timeout: 5, staleIfError: 3600, maxBytes: 262144 });
    expect(config.allowQueryToken).toBe(false);
    expect(config.allowBodyToken).toBe(false);
    expect(Object.isFrozen(config)).toBe(true);
  });

  it('accepts a tenant URL with a trailing slash', () => {
    expect(createBearerAuth({ ...base, tenantUrl: `${TENANT}/` }).config.issuers).toEqual([`${TENANT}/inventoryapi/`]);
  });

  it('reads the CYBERARK_* environment, lists comma-separated', () => {
    const { config } = createBearerAuth({
      logger: silent,
      env: {
        CYBERARK_TENANT_URL: TENANT,
        CYBERARK_APP_ID: 'inventoryapi',
        CYBERARK_AUDIENCE: 'aud-1, aud-2',
        CYBERARK_ISSUER: `${TENANT}/inventoryapi/,https://vanity.my.idaptive.app/inventoryapi/`,
        CYBERARK_JWKS_URI: `${TENANT}/oauth2/keys/inventoryapi`,
      },
    });
    expect(config.audiences).toEqual(['aud-1', 'aud-2']);
    expect(config.issuers).toEqual([`${TENANT}/inventoryapi/`, 'https://vanity.my.idaptive.app/inventoryapi/']);
    expect(config.jwksUri).toBe(`${TENANT}/oauth2/keys/inventoryapi`);
  });

  it('lets options win over the environment', () => {
    const { config } = createBearerAuth({ ...base, env: { CYBERARK_AUDIENCE: 'from-env', CYBERARK_APP_ID: 'other' } });
    expect(config.audiences).toEqual(['https://api.example.com/inventory']);
    expect(config.issuers).toEqual([`${TENANT}/inventoryapi/`]);
  });

  it('takes a custom (non-URL) issuer string as is, compared exactly', () => {
    const { config } = createBearerAuth({ ...base, issuer: 'company-issuer' });
    expect(config.issuers).toEqual(['company-issuer']);
  });

  it('selects discovery when only issuer is given', () => {
    const { config } = createBearerAuth({ issuer: `${TENANT}/inventoryapi/`, audience: 'a', logger: silent, env: {} });
    expect(config.jwksUri).toBeUndefined();
  });
});

describe('mistakes throw at construction, naming the option', () => {
  it.each<[string, Record<string, unknown>, RegExp]>([
    ['missing audience', { audience: undefined }, /option "audience" \(env CYBERARK_AUDIENCE\) is required/],
    ['empty audience', { audience: '' }, /option "audience" \(env CYBERARK_AUDIENCE\) entries must be non-empty strings/],
    ['empty audience list', { audience: [] }, /option "audience" .* must not be an empty list/],
    ['audience of the wrong type', { audience: 42 }, /option "audience" .* must be a string or an array of strings, got number/],
    ['padded audience', { audience: ' aud ' }, /leading or trailing spaces/],
    ['tenantUrl without appId', { appId: undefined }, /option "appId" \(env CYBERARK_APP_ID\) is required with tenantUrl/],
    ['appId without tenantUrl', { tenantUrl: undefined }, /option "tenantUrl" \(env CYBERARK_TENANT_URL\) is required with appId/],
    ['nothing to trust', { tenantUrl: undefined, appId: undefined }, /option "tenantUrl" .* and appId are required/],
    ['tenantUrl not a URL', { tenantUrl: 'abc1234.id.cyberark.cloud' }, /option "tenantUrl" .* is not a valid URL/],
    ['tenantUrl over http', { tenantUrl: 'http://abc1234.id.cyberark.cloud' }, /option "tenantUrl" .* must use https/],
    ['tenantUrl with a path', { tenantUrl: `${TENANT}/oauth2` }, /option "tenantUrl" .* no path or query/],
    ['tenantUrl with credentials', { tenantUrl: 'https://u:p@abc1234.id.cyberark.cloud' }, /must not contain credentials/],
    ['tenantUrl ftp', { tenantUrl: 'ftp://abc1234.id.cyberark.cloud' }, /must be an https URL/],
    ['appId with a slash', { appId: 'a/b' }, /option "appId" .* must be the Application ID/],
    ['empty appId', { appId: '' }, /option "appId"/],
    ['jwksUri over http', { jwksUri: 'http://keys.example.com/jwks' }, /option "jwksUri" \(env CYBERARK_JWKS_URI\) must use https/],
    ['empty issuer', { issuer: '' }, /option "issuer" \(env CYBERARK_ISSUER\) entries must be non-empty/],
    ['algorithm none', { algorithms: ['none'] }, /option "algorithms" must not contain "none"/],
    ['algorithm NONE', { algorithms: ['NONE'] }, /must not contain "none"/],
    ['HMAC algorithm', { algorithms: ['HS256'] }, /option "algorithms" must not contain HS256: HMAC needs a shared secret/],
    ['unknown algorithm', { algorithms: ['RS1'] }, /option "algorithms" has unsupported "RS1"/],
    ['empty algorithms', { algorithms: [] }, /option "algorithms" must be a non-empty array/],
    ['negative clockTolerance', { clockTolerance: -1 }, /option "clockTolerance" must be at least 0 seconds, got -1/],
    ['string clockTolerance', { clockTolerance: '30s' }, /option "clockTolerance" must be a finite number of seconds, got a string/],
    ['infinite clockTolerance', { clockTolerance: Infinity }, /option "clockTolerance" must be a finite number/],
    ['zero maxTokenAge', { maxTokenAge: 0 }, /option "maxTokenAge" must be greater than 0 seconds/],
    ['negative keyCache.maxAge', { keyCache: { maxAge: -5 } }, /option "keyCache.maxAge" must be greater than 0 seconds, got -5/],
    ['zero keyCache.timeout', { keyCache: { timeout: 0 } }, /option "keyCache.timeout" must be greater than 0/],
    ['negative keyCache.cooldown', { keyCache: { cooldown: -1 } }, /option "keyCache.cooldown" must be at least 0/],
    ['tiny keyCache.maxBytes', { keyCache: { maxBytes: 10 } }, /option "keyCache.maxBytes" must be an integer of at least 1024/],
    ['unknown keyCache option', { keyCache: { ttl: 5 } }, /option "keyCache.ttl" is not an option/],
    ['keyCache not an object', { keyCache: 5 }, /option "keyCache" must be an object, got number/],
    ['negative tokenCache.max', { tokenCache: { max: -1 } }, /option "tokenCache.max" must be an integer of at least 0/],
    ['realm with a quote', { realm: 'a"b' }, /option "realm" must be a non-empty string of printable ASCII/],
    ['empty realm', { realm: '' }, /option "realm"/],
    ['unknown onError', { onError: 'throw' }, /option "onError" must be "respond" or "next"/],
    ['empty scopeClaim', { scopeClaim: [] }, /option "scopeClaim" must be a claim name/],
    ['allowQueryToken not boolean', { allowQueryToken: 'yes' }, /option "allowQueryToken" must be true or false, got a string/],
    ['logger without methods', { logger: {} }, /option "logger" must be a pino logger/],
    ['misspelt option', { audiences: ['a'] }, /option "audiences" is not an option of cyberark-bearer/],
    ['tiny maxTokenLength', { maxTokenLength: 10 }, /option "maxTokenLength" must be an integer of at least 64/],
  ])('%s', (_case, change, message) => {
    const error = configError({ ...base, ...change });
    expect(error.message).toMatch(message);
    expect(error.message.startsWith('cyberark-bearer: ')).toBe(true);
  });

  it('names the option in error.option', () => {
    expect(configError({ ...base, audience: undefined }).option).toBe('audience');
    expect(configError({ ...base, keyCache: { maxAge: -1 } }).option).toBe('keyCache.maxAge');
  });

  it('refuses options that are not an object', () => {
    expect(configError('https://abc1234.id.cyberark.cloud').message).toMatch(/option "options" must be an object, got a string/);
  });

  it('allows http for loopback hosts only, unless allowInsecureHttp', () => {
    expect(() => createBearerAuth({ ...base, tenantUrl: 'http://127.0.0.1:8080' })).not.toThrow();
    expect(() => createBearerAuth({ ...base, tenantUrl: 'http://localhost:8080' })).not.toThrow();
    expect(() => createBearerAuth({ ...base, tenantUrl: 'http://[::1]:8080' })).not.toThrow();
    expect(() => createBearerAuth({ ...base, tenantUrl: 'http://10.0.0.5:8080' })).toThrow(/must use https/);
    expect(() => createBearerAuth({ ...base, tenantUrl: 'http://idp.internal', allowInsecureHttp: true })).not.toThrow();
  });

  it('refuses a LOG_LEVEL that pino does not know', () => {
    expect(() => createBearerAuth({ ...base, logger: undefined, env: { LOG_LEVEL: 'verbose' } })).toThrow(
      /option "logger" \(env LOG_LEVEL\) cannot be created: LOG_LEVEL "verbose" is not a pino level/,
    );
  });

  it('refuses an issuer that cannot be discovered when no JWKS URL is known', () => {
    expect(() => createBearerAuth({ issuer: 'not-a-url', audience: 'a', logger: silent, env: {} })).toThrow(
      /option "issuer" \(env CYBERARK_ISSUER\) is not a valid URL/,
    );
  });
});

describe('scope requirements', () => {
  const auth = createBearerAuth(base);
  const requireAny = auth.requireToken as (...args: unknown[]) => unknown;
  it.each<[string, unknown, RegExp]>([
    ['an empty string', '', /option "scopes" has an invalid scope ""/],
    ['a scope with a space', 'orders read', /invalid scope "orders read"/],
    ['a scope with a quote', 'a"b', /invalid scope/],
    ['an empty array', [], /option "scopes" must list at least one scope/],
    ['a number', 42, /must be a scope string, an array of scopes \(all of\), or \{ anyOf: \[\.\.\.\] \}; got number/],
    ['both allOf and anyOf', { allOf: ['a'], anyOf: ['b'] }, /exactly one of allOf or anyOf/],
    ['an unknown key', { oneOf: ['a'] }, /unknown key "oneOf"/],
    ['an empty anyOf', { anyOf: [] }, /option "scopes.anyOf" must list at least one scope/],
  ])('refuses %s', (_case, requirement, message) => {
    expect(() => requireAny(requirement)).toThrow(message);
  });
});
