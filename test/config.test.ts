/**
 * Configuration is validated once, at construction: every mistake throws a ConfigError that
 * names the option (and its env var) and what is wrong.
 */
import { describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { configError as configErrorOf } from './support/config.js';
import { silent } from './support/logger.js';

const TENANT = 'https://abc1234.id.cyberark.cloud';
const base: BearerAuthOptions = {
  tenantUrl: TENANT,
  appId: 'inventoryapi',
  audience: 'https://api.example.com/inventory',
  logger: silent,
  env: {},
};

/** The ConfigError that createBearerAuth(options) throws. */
const configError = (options: unknown) => configErrorOf(() => createBearerAuth(options as BearerAuthOptions));

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
    [
      'appId without tenantUrl',
      { tenantUrl: undefined },
      /option "tenantUrl" \(env CYBERARK_TENANT_URL\) is required with appId/,
    ],
    ['nothing to trust', { tenantUrl: undefined, appId: undefined }, /option "tenantUrl" .* and appId are required/],
    ['tenantUrl not a URL', { tenantUrl: 'abc1234.id.cyberark.cloud' }, /option "tenantUrl" .* is not a valid URL/],
    ['tenantUrl over http', { tenantUrl: 'http://abc1234.id.cyberark.cloud' }, /option "tenantUrl" .* must use https/],
    ['tenantUrl with a path', { tenantUrl: `${TENANT}/oauth2` }, /option "tenantUrl" .* no path or query/],
    ['tenantUrl with credentials', { tenantUrl: 'https://u:p@abc1234.id.cyberark.cloud' }, /must not contain credentials/],
    ['tenantUrl ftp', { tenantUrl: 'ftp://abc1234.id.cyberark.cloud' }, /must be an https URL/],
    ['appId with a slash', { appId: 'a/b' }, /option "appId" .* must be the Application ID/],
    ['empty appId', { appId: '' }, /option "appId"/],
    [
      'jwksUri over http',
      { jwksUri: 'http://keys.example.com/jwks' },
      /option "jwksUri" \(env CYBERARK_JWKS_URI\) must use https/,
    ],
    ['empty issuer', { issuer: '' }, /option "issuer" \(env CYBERARK_ISSUER\) entries must be non-empty/],
    ['algorithm none', { algorithms: ['none'] }, /option "algorithms" must not contain "none"/],
    ['algorithm NONE', { algorithms: ['NONE'] }, /must not contain "none"/],
    ['HMAC algorithm', { algorithms: ['HS256'] }, /option "algorithms" must not contain HS256: HMAC needs a shared secret/],
    ['unknown algorithm', { algorithms: ['RS1'] }, /option "algorithms" has unsupported "RS1"/],
    ['empty algorithms', { algorithms: [] }, /option "algorithms" must be a non-empty array/],
    ['negative clockTolerance', { clockTolerance: -1 }, /option "clockTolerance" must be at least 0 seconds, got -1/],
    [
      'string clockTolerance',
      { clockTolerance: '30s' },
      /option "clockTolerance" must be a finite number of seconds, got a string/,
    ],
    ['infinite clockTolerance', { clockTolerance: Infinity }, /option "clockTolerance" must be a finite number/],
    ['zero maxTokenAge', { maxTokenAge: 0 }, /option "maxTokenAge" must be greater than 0 seconds/],
    ['negative keyCache.maxAge', { keyCache: { maxAge: -5 } }, /option "keyCache.maxAge" must be greater than 0 seconds, got -5/],
    ['zero keyCache.timeout', { keyCache: { timeout: 0 } }, /option "keyCache.timeout" must be greater than 0/],
    [
      'negative keyCache.cooldown',
      { keyCache: { cooldown: -1 } },
      /option "keyCache.cooldown" must be at least 1 second, got -1/,
    ],
    [
      'zero keyCache.cooldown (every unknown kid would fetch the JWKS)',
      { keyCache: { cooldown: 0 } },
      /option "keyCache.cooldown" must be at least 1 second, got 0/,
    ],
    [
      'keyCache.cooldown just below 1 s',
      { keyCache: { cooldown: 0.999 } },
      /option "keyCache.cooldown" must be at least 1 second, got 0.999/,
    ],
    ['tiny keyCache.maxBytes', { keyCache: { maxBytes: 10 } }, /option "keyCache.maxBytes" must be an integer of at least 1024/],
    ['unknown keyCache option', { keyCache: { ttl: 5 } }, /option "keyCache.ttl" is not an option/],
    ['keyCache not an object', { keyCache: 5 }, /option "keyCache" must be an object, got number/],
    ['negative tokenCache.max', { tokenCache: { max: -1 } }, /option "tokenCache.max" must be an integer from 0 to 1000000/],
    [
      'huge tokenCache.max (allocated up front)',
      { tokenCache: { max: 2 ** 32 } },
      /option "tokenCache.max" must be an integer from 0 to 1000000, got 4294967296/,
    ],
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
  const requireAny = (...args: unknown[]) =>
    (auth as unknown as { requireToken(...args: unknown[]): unknown }).requireToken(...args);
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

/**
 * Every option against every kind of wrong value: a wrong type, an empty value, a negative or
 * non-finite duration, plain http, a value that is nearly right. Each must throw a ConfigError
 * at construction that names the option (never a TypeError, never a silent default).
 */
describe('each option × each kind of wrong value', () => {
  const fn = () => {};
  const TYPES: Record<string, unknown> = {
    'a number': 42,
    'a boolean': true,
    'an object': { a: 1 },
    null: null,
    'a function': fn,
  };
  const NOT_A_STRING: Record<string, unknown> = { ...TYPES, 'an array': ['x'] };
  const DURATION: Record<string, unknown> = {
    'a string': '30',
    'a boolean': true,
    null: null,
    'an object': {},
    'an array': [],
    negative: -1,
    'slightly negative': -0.001,
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
    '-Infinity': Number.NEGATIVE_INFINITY,
  };
  const BOOLEAN: Record<string, unknown> = {
    'the string "true"': 'true',
    'the string "false"': 'false',
    1: 1,
    0: 0,
    'an object': {},
    'an array': [],
    null: null,
  };

  const matrix: Record<string, Record<string, unknown>> = {
    tenantUrl: {
      ...NOT_A_STRING,
      empty: '',
      blank: '   ',
      'not a URL': 'abc1234.id.cyberark.cloud',
      'http on a public host': 'http://abc1234.id.cyberark.cloud',
      'http on a private address': 'http://10.0.0.5',
      'http on a host that only starts like loopback': 'http://127.0.0.1.evil.example',
      'http on localhost. (trailing dot)': 'http://localhost.',
      ftp: 'ftp://abc1234.id.cyberark.cloud',
      file: 'file:///etc/passwd',
      credentials: 'https://u:p@abc1234.id.cyberark.cloud',
      'a fragment': `${TENANT}#x`,
      'a path': `${TENANT}/oauth2`,
      'a query': `${TENANT}?a=1`,
    },
    appId: {
      ...NOT_A_STRING,
      empty: '',
      blank: ' ',
      'a space': 'orders api',
      'a slash': 'a/b',
      'a backslash': 'a\\b',
      'a query': 'a?b',
      'a fragment': 'a#b',
      'an escape': 'a%2Fb',
      NUL: 'a\u0000b',
    },
    issuer: {
      ...TYPES,
      empty: '',
      'an empty list': [],
      'an empty entry': [''],
      'a non-string entry': [42],
      'a padded entry': [' https://x/'],
    },
    jwksUri: {
      ...NOT_A_STRING,
      empty: '',
      'not a URL': 'keys',
      'http on a public host': 'http://keys.example.com/jwks',
      file: 'file:///etc/passwd',
      credentials: 'https://u:p@keys.example.com/jwks',
      'a fragment': 'https://keys.example.com/jwks#k',
    },
    audience: {
      ...TYPES,
      empty: '',
      'an empty list': [],
      'an empty entry': [''],
      'a null entry': [null],
      'a padded entry': [' aud'],
    },
    algorithms: {
      'a string': 'RS256',
      ...TYPES,
      'an empty list': [],
      'an empty entry': [''],
      'a non-string entry': [42],
      none: ['none'],
      None: ['None'],
      HS256: ['HS256'],
      hs512: ['hs512'],
      'a lower-case name': ['rs256'],
      'an unknown name': ['RS1'],
    },
    clockTolerance: DURATION,
    maxTokenAge: { ...DURATION, zero: 0 },
    scopeClaim: { ...TYPES, empty: '', 'an empty list': [], 'an empty entry': [''], 'a non-string entry': [42] },
    realm: {
      ...NOT_A_STRING,
      empty: '',
      'a quote': 'a"b',
      'a backslash': 'a\\b',
      'non-ASCII': 'réalm',
      'a line break': 'a\r\nb',
    },
    logger: {
      'a number': 42,
      'a string': 'pino',
      'a boolean': true,
      'an empty object': {},
      'an array': [],
      null: null,
      'an object with info only': { info: fn },
    },
    onError: { ...NOT_A_STRING, empty: '', 'an unknown mode': 'throw', 'another case': 'RESPOND' },
    allowQueryToken: BOOLEAN,
    allowBodyToken: BOOLEAN,
    strict: BOOLEAN,
    allowInsecureHttp: BOOLEAN,
    maxTokenLength: {
      'a string': '16384',
      'a boolean': true,
      null: null,
      'an object': {},
      negative: -1,
      zero: 0,
      'below 64': 63,
      'a fraction': 1.5,
      NaN: Number.NaN,
      Infinity: Number.POSITIVE_INFINITY,
    },
    keyCache: { 'a number': 42, 'a string': 'x', 'a boolean': true, 'an array': [], null: null, 'a function': fn },
    tokenCache: { 'a number': 42, 'a string': 'x', 'an array': [], null: null },
    env: { 'a number': 42, 'a string': 'CYBERARK_AUDIENCE=a', 'a boolean': true, null: null, 'an array': [] },
  };
  const cases: Array<[string, string, unknown]> = [];
  for (const [option, values] of Object.entries(matrix))
    for (const [kind, value] of Object.entries(values)) cases.push([option, kind, value]);

  it.each(cases)('%s: %s', (option, _kind, value) => {
    const error = configError({ ...base, [option]: value });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(new RegExp(`^cyberark-bearer: option "${option}"( \\(env \\w+\\))? \\S`));
  });

  const keyCacheCases: Array<[string, string, unknown]> = [];
  for (const name of ['maxAge', 'cooldown', 'timeout', 'staleIfError']) {
    for (const [kind, value] of Object.entries(DURATION)) keyCacheCases.push([name, kind, value]);
  }
  keyCacheCases.push(
    ['maxAge', 'zero', 0],
    ['cooldown', 'zero', 0],
    ['cooldown', 'below 1 s', 0.5],
    ['timeout', 'zero', 0],
    ['timeout', 'longer than a Node.js timer can wait', 2_147_484],
  );
  for (const [kind, value] of Object.entries({
    'a string': '1024',
    'a boolean': true,
    null: null,
    negative: -1,
    zero: 0,
    'below 1024': 1023,
    'a fraction': 1024.5,
    NaN: Number.NaN,
    Infinity: Number.POSITIVE_INFINITY,
  }))
    keyCacheCases.push(['maxBytes', kind, value]);

  it.each(keyCacheCases)('keyCache.%s: %s', (name, _kind, value) => {
    const error = configError({ ...base, keyCache: { [name]: value } });
    expect(error.option).toBe(`keyCache.${name}`);
    expect(error.message).toMatch(new RegExp(`^cyberark-bearer: option "keyCache.${name}" \\S`));
  });

  it.each(
    Object.entries({
      'a string': '10',
      'a boolean': true,
      null: null,
      negative: -1,
      'a fraction': 1.5,
      NaN: Number.NaN,
      Infinity: Number.POSITIVE_INFINITY,
    }),
  )('tokenCache.max: %s', (_kind, value) => {
    expect(configError({ ...base, tokenCache: { max: value } }).option).toBe('tokenCache.max');
  });

  const full = { CYBERARK_TENANT_URL: TENANT, CYBERARK_APP_ID: 'inventoryapi', CYBERARK_AUDIENCE: 'aud' };
  it.each<[string, Record<string, unknown>, string]>([
    ['CYBERARK_TENANT_URL over http on a public host', { CYBERARK_TENANT_URL: 'http://abc1234.id.cyberark.cloud' }, 'tenantUrl'],
    ['CYBERARK_TENANT_URL not a URL', { CYBERARK_TENANT_URL: 'abc1234' }, 'tenantUrl'],
    ['CYBERARK_APP_ID with a slash', { CYBERARK_APP_ID: 'a/b' }, 'appId'],
    ['CYBERARK_AUDIENCE of commas only', { CYBERARK_AUDIENCE: ' , ' }, 'audience'],
    ['CYBERARK_ISSUER with an empty entry', { CYBERARK_ISSUER: `${TENANT}/inventoryapi/,` }, 'issuer'],
    ['CYBERARK_JWKS_URI over http on a public host', { CYBERARK_JWKS_URI: 'http://keys.example.com/jwks' }, 'jwksUri'],
    ['LOG_LEVEL unknown to pino', { LOG_LEVEL: 'loud' }, 'logger'],
    ['CYBERARK_TENANT_URL not a string', { CYBERARK_TENANT_URL: 42 }, 'tenantUrl'],
    ['CYBERARK_APP_ID not a string', { CYBERARK_APP_ID: true }, 'appId'],
    ['CYBERARK_AUDIENCE not a string', { CYBERARK_AUDIENCE: ['aud'] }, 'audience'],
    ['CYBERARK_ISSUER not a string', { CYBERARK_ISSUER: 42 }, 'issuer'],
    ['CYBERARK_JWKS_URI not a string', { CYBERARK_JWKS_URI: {} }, 'jwksUri'],
    ['LOG_LEVEL not a string', { LOG_LEVEL: 30 }, 'logger'],
  ])('env: %s', (_case, env, option) => {
    const error = configError({ env: { ...full, ...env } });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(/^cyberark-bearer: option "\w+" \(env \w+\) \S/);
  });

  it('accepts the right kind of every option (so the cases above fail for their value alone)', () => {
    expect(() =>
      createBearerAuth({
        ...base,
        issuer: [`${TENANT}/inventoryapi/`],
        jwksUri: `${TENANT}/OAuth2/Keys/inventoryapi`,
        audience: ['a', 'b'],
        algorithms: ['RS256', 'PS256'],
        clockTolerance: 0,
        maxTokenAge: 0.5,
        scopeClaim: ['scope'],
        realm: 'orders',
        onError: 'next',
        allowQueryToken: true,
        allowBodyToken: false,
        strict: true,
        allowInsecureHttp: false,
        maxTokenLength: 64,
        keyCache: { maxAge: 0.1, cooldown: 1, timeout: 2_147_483, staleIfError: 0, maxBytes: 1024 },
        tokenCache: { max: 0 },
        env: { LOG_LEVEL: 'silent' },
      }),
    ).not.toThrow();
  });
});
