/**
 * Options, their environment variables and their defaults, validated once into a frozen config.
 * Every mistake throws a ConfigError at construction naming the option; nothing fails later.
 */
import { ConfigError, DEFAULT_REALM } from './errors.js';
import type { BearerLogger } from './log.js';
import {
  APP_ID_ENV, appIdOf, bool, checkUrl, describe, duration, envOf, integer, loggerOf, MAX_TIMER_SECONDS, optionOrEnv, ownProperties,
  plainObject, TENANT_URL_ENV, tenantOrigin, type Env,
} from './option-checks.js';

/** JWS algorithms a resource server may accept from an asymmetric JWKS. */
export const SUPPORTED_ALGORITHMS = [
  'RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512', 'ES256', 'ES384', 'ES512', 'EdDSA', 'Ed25519',
] as const;
export type Algorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** How the signing keys are fetched and kept. Durations in seconds. */
export interface KeyCacheOptions {
  /** How long a fetched key set is used before it is refreshed (capped by `Cache-Control: max-age`). Default 600. */
  maxAge?: number | undefined;
  /** Least time between two fetches caused by unknown key ids, and the longest back-off after a failure. Default 30, at least 1. */
  cooldown?: number | undefined;
  /** Time limit of one fetch. Default 5. */
  timeout?: number | undefined;
  /** How long the last good key set stays in use while refreshes fail. Default 3600. */
  staleIfError?: number | undefined;
  /** Largest JWKS or discovery document accepted, in bytes. Default 262144 (256 KiB). */
  maxBytes?: number | undefined;
}

export interface VerifiedTokenCacheOptions {
  /** Most verified tokens kept; 0 turns the cache off. Default 10000. */
  max?: number | undefined;
}

export interface BearerAuthOptions {
  /** Tenant base URL, e.g. `https://abc1234.id.cyberark.cloud`. Env `CYBERARK_TENANT_URL`. */
  tenantUrl?: string | undefined;
  /** Application ID of the OAuth2 Server app. Env `CYBERARK_APP_ID`. */
  appId?: string | undefined;
  /** Accepted `iss` values, compared exactly. Env `CYBERARK_ISSUER` (comma-separated). Default `${tenantUrl}/${appId}/`. */
  issuer?: string | readonly string[] | undefined;
  /** JWKS URL. Env `CYBERARK_JWKS_URI`. Default `${tenantUrl}/OAuth2/Keys/${appId}`, else discovered from the issuer. */
  jwksUri?: string | undefined;
  /** Accepted `aud` values. Env `CYBERARK_AUDIENCE` (comma-separated). Required. */
  audience?: string | readonly string[] | undefined;
  /** Accepted `alg` values. Default `['RS256']`. `none` and HMAC algorithms are refused. */
  algorithms?: readonly Algorithm[] | undefined;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockTolerance?: number | undefined;
  /** Refuse tokens whose `iat` is older than this many seconds. Default: unset. */
  maxTokenAge?: number | undefined;
  /** Claim(s) holding the granted scopes, first present wins. Default `['scope', 'scp']`. */
  scopeClaim?: string | readonly string[] | undefined;
  /** Realm of the `WWW-Authenticate` challenge. Default `api`. */
  realm?: string | undefined;
  /** A pino logger (or any logger with the same methods). Default: pino at `LOG_LEVEL` (default `info`). */
  logger?: BearerLogger | undefined;
  /** `respond` (default): the middleware answers refusals itself. `next`: it passes a BearerError to `next()`. */
  onError?: 'respond' | 'next' | undefined;
  /** Accept `access_token` in the query string (RFC 6750 §2.3). Default false: such requests get 400. */
  allowQueryToken?: boolean | undefined;
  /** Accept `access_token` in a form-encoded body (RFC 6750 §2.2). Default false: such requests get 400. */
  allowBodyToken?: boolean | undefined;
  /** RFC 9068 profile: require `typ: at+jwt` and the claims `sub`, `client_id`, `iat`, `jti`. Default false (CyberArk tokens lack them). */
  strict?: boolean | undefined;
  /** Longest token accepted, in characters. Default 16384. */
  maxTokenLength?: number | undefined;
  /** Signing-key cache settings. */
  keyCache?: KeyCacheOptions | undefined;
  /** Cache of verified tokens (skips the signature check for a token already seen). */
  tokenCache?: VerifiedTokenCacheOptions | undefined;
  /** Allow `http:` URLs for hosts other than loopback. Default false. */
  allowInsecureHttp?: boolean | undefined;
  /** Where environment variables are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

export interface ResolvedConfig {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  /** The JWKS URL, or undefined when it is discovered from each issuer. */
  readonly jwksUri: string | undefined;
  readonly algorithms: readonly Algorithm[];
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly scopeClaims: readonly string[];
  readonly realm: string;
  readonly onError: 'respond' | 'next';
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly strict: boolean;
  readonly maxTokenLength: number;
  readonly keyCache: Readonly<{ [K in keyof KeyCacheOptions]-?: number }>;
  readonly tokenCache: Readonly<{ [K in keyof VerifiedTokenCacheOptions]-?: number }>;
  readonly allowInsecureHttp: boolean;
  readonly logger: BearerLogger;
}

const KNOWN_OPTIONS = new Set<string>([
  'tenantUrl', 'appId', 'issuer', 'jwksUri', 'audience', 'algorithms', 'clockTolerance', 'maxTokenAge',
  'scopeClaim', 'realm', 'logger', 'onError', 'allowQueryToken', 'allowBodyToken', 'strict', 'maxTokenLength',
  'keyCache', 'tokenCache', 'allowInsecureHttp', 'env',
]);

const ENV = {
  tenantUrl: TENANT_URL_ENV,
  appId: APP_ID_ENV,
  issuer: 'CYBERARK_ISSUER',
  jwksUri: 'CYBERARK_JWKS_URI',
  audience: 'CYBERARK_AUDIENCE',
} as const;

const KEY_CACHE_DEFAULTS: ResolvedConfig['keyCache'] = Object.freeze({
  maxAge: 600,
  cooldown: 30,
  timeout: 5,
  staleIfError: 3600,
  maxBytes: 256 * 1024,
});

/** Reads a string option, falling back to its env var. Empty env vars count as unset. */
function pick(options: BearerAuthOptions, env: Env, key: keyof typeof ENV): { value: unknown; fromEnv: boolean } {
  return optionOrEnv(options[key], env, key, ENV[key]);
}

/** A string-or-list option. Env values are comma-separated; list entries must be non-empty, unpadded strings. */
function stringList(option: 'issuer' | 'audience', picked: { value: unknown; fromEnv: boolean }): readonly string[] | undefined {
  const { value, fromEnv } = picked;
  if (value === undefined) return undefined;
  const envVar = ENV[option];
  let list: unknown[];
  if (fromEnv) list = (value as string).split(',').map((s) => s.trim());
  else if (typeof value === 'string') list = [value];
  else if (Array.isArray(value)) list = value;
  else throw new ConfigError(option, `must be a string or an array of strings, got ${describe(value)}`, envVar);
  if (list.length === 0) throw new ConfigError(option, 'must not be an empty list', envVar);
  for (const item of list) {
    if (typeof item !== 'string' || item === '') {
      throw new ConfigError(option, `entries must be non-empty strings, got ${describe(item)}`, envVar);
    }
    if (item !== item.trim()) {
      throw new ConfigError(option, `entry ${JSON.stringify(item)} has leading or trailing spaces (values are compared exactly)`, envVar);
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

/** lru-cache allocates its index for `max` entries up front: beyond this, startup memory balloons. */
const TOKEN_CACHE_LIMIT = 1_000_000;

/** A realm goes into a quoted-string: printable ASCII without `"` and `\`. */
const REALM = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

export function resolveConfig(given: BearerAuthOptions = {}): ResolvedConfig {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError('options', `must be an object, got ${describe(given)}`);
  }
  const options: BearerAuthOptions = ownProperties(given);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new ConfigError(key, 'is not an option of cyberark-bearer (check its spelling)');
  }
  const env = envOf(options.env);
  const allowInsecureHttp = bool(options.allowInsecureHttp, 'allowInsecureHttp');

  const tenant = pick(options, env, 'tenantUrl');
  const app = pick(options, env, 'appId');
  const tenantUrl = tenant.value === undefined ? undefined : tenantOrigin(tenant.value, allowInsecureHttp);
  const appId = app.value === undefined ? undefined : appIdOf(app.value);

  const issuerList = stringList('issuer', pick(options, env, 'issuer'));
  const jwksPicked = pick(options, env, 'jwksUri');
  const jwksGiven = jwksPicked.value !== undefined;
  if ((tenantUrl === undefined) !== (appId === undefined) && !(issuerList && jwksGiven)) {
    const [missing, have] = tenantUrl === undefined ? (['tenantUrl', 'appId'] as const) : (['appId', 'tenantUrl'] as const);
    throw new ConfigError(missing, `is required with ${have}: tokens are issued at ${'${tenantUrl}'}/oauth2/token/${'${appId}'}`, ENV[missing]);
  }
  const base = tenantUrl !== undefined && appId !== undefined ? { tenantUrl, appId: encodeURIComponent(appId) } : undefined;

  const issuers = issuerList ?? (base ? Object.freeze([`${base.tenantUrl}/${base.appId}/`]) : undefined);
  if (!issuers) {
    throw new ConfigError('tenantUrl', `and appId are required (or issuer, with jwksUri or discovery): nothing says which tokens to accept`, ENV.tenantUrl);
  }

  let jwksUri: string | undefined;
  if (jwksGiven) jwksUri = checkUrl(jwksPicked.value, 'jwksUri', ENV.jwksUri, allowInsecureHttp).href;
  else if (base) jwksUri = `${base.tenantUrl}/OAuth2/Keys/${base.appId}`;
  else {
    // Discovery: every issuer must be a URL whose metadata we can fetch.
    for (const issuer of issuers) checkUrl(issuer, 'issuer', ENV.issuer, allowInsecureHttp);
  }

  const audiences = stringList('audience', pick(options, env, 'audience'));
  if (!audiences) {
    throw new ConfigError('audience', 'is required: set it to the Audience of your CyberArk OAuth2 Server app (tokens for other apps of the tenant carry the same signature)', ENV.audience);
  }

  const algorithms = resolveAlgorithms(options.algorithms);
  const clockTolerance = duration(options.clockTolerance, 'clockTolerance', 30)!;
  const maxTokenAge = duration(options.maxTokenAge, 'maxTokenAge', undefined, { exclusiveMin: true });

  let scopeClaims: readonly string[] = ['scope', 'scp'];
  if (options.scopeClaim !== undefined) {
    const list = typeof options.scopeClaim === 'string' ? [options.scopeClaim] : options.scopeClaim;
    if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== 'string' || c === '')) {
      throw new ConfigError('scopeClaim', 'must be a claim name or a non-empty array of claim names');
    }
    scopeClaims = [...list];
  }

  const realm = options.realm === undefined ? DEFAULT_REALM : options.realm;
  if (typeof realm !== 'string' || !REALM.test(realm)) {
    throw new ConfigError('realm', 'must be a non-empty string of printable ASCII without quotes or backslashes');
  }

  const onError = options.onError === undefined ? 'respond' : options.onError;
  if (onError !== 'respond' && onError !== 'next') {
    throw new ConfigError('onError', `must be "respond" or "next", got ${JSON.stringify(onError)}`);
  }

  const kc = plainObject(options.keyCache, 'keyCache', Object.keys(KEY_CACHE_DEFAULTS));
  const keyCache = Object.freeze({
    maxAge: duration(kc.maxAge, 'keyCache.maxAge', KEY_CACHE_DEFAULTS.maxAge, { exclusiveMin: true })!,
    // Without a floor, a flood of random key ids becomes a flood of JWKS fetches.
    cooldown: duration(kc.cooldown, 'keyCache.cooldown', KEY_CACHE_DEFAULTS.cooldown, { min: 1 })!,
    // A longer timer fires at once (Node clamps it to 1 ms), so every fetch would time out.
    timeout: duration(kc.timeout, 'keyCache.timeout', KEY_CACHE_DEFAULTS.timeout, { exclusiveMin: true, max: MAX_TIMER_SECONDS })!,
    staleIfError: duration(kc.staleIfError, 'keyCache.staleIfError', KEY_CACHE_DEFAULTS.staleIfError)!,
    maxBytes: integer(kc.maxBytes, 'keyCache.maxBytes', KEY_CACHE_DEFAULTS.maxBytes, 1024),
  });
  const tc = plainObject(options.tokenCache, 'tokenCache', ['max']);
  const tokenCache = Object.freeze({ max: integer(tc.max, 'tokenCache.max', 10_000, 0, TOKEN_CACHE_LIMIT) });

  const logger = loggerOf(options.logger, env);

  return Object.freeze({
    issuers,
    audiences,
    jwksUri,
    algorithms,
    clockTolerance,
    maxTokenAge,
    scopeClaims: Object.freeze(scopeClaims),
    realm,
    onError,
    allowQueryToken: bool(options.allowQueryToken, 'allowQueryToken'),
    allowBodyToken: bool(options.allowBodyToken, 'allowBodyToken'),
    strict: bool(options.strict, 'strict'),
    maxTokenLength: integer(options.maxTokenLength, 'maxTokenLength', 16_384, 64),
    keyCache,
    tokenCache,
    allowInsecureHttp,
    logger,
  });
}

function resolveAlgorithms(value: unknown): readonly Algorithm[] {
  if (value === undefined) return Object.freeze(['RS256'] as Algorithm[]);
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError('algorithms', `must be a non-empty array such as ['RS256'], got ${describe(value)}`);
  }
  for (const alg of value) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new ConfigError('algorithms', 'must not contain "none": unsigned tokens are never accepted');
    }
    if (typeof alg === 'string' && /^HS/i.test(alg)) {
      throw new ConfigError('algorithms', `must not contain ${alg}: HMAC needs a shared secret, and CyberArk signs with the tenant's RSA key (RS256)`);
    }
    if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new ConfigError('algorithms', `has unsupported ${JSON.stringify(alg)} (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  return Object.freeze([...new Set(value as Algorithm[])]);
}

/** Identity of everything that decides whether a token is valid: instances with equal ones share caches. */
export function verificationFingerprint(config: ResolvedConfig): string {
  return JSON.stringify([
    config.issuers, config.audiences, config.jwksUri, config.algorithms, config.clockTolerance,
    config.maxTokenAge ?? null, config.scopeClaims, config.strict, config.maxTokenLength, config.keyCache,
    config.tokenCache, config.allowInsecureHttp,
  ]);
}
