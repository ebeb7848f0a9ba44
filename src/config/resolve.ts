/**
 * `createBearerAuth()`'s options validated once, top-down in table order, into a frozen config.
 * Every mistake throws a ConfigError at construction naming the option; nothing fails later.
 */
import { ConfigError } from '../errors.js';
import { introspectionOf, tokenKindsOf } from './introspection.js';
import {
  appIdOf,
  checkUrl,
  envOf,
  flag,
  kindOf,
  loggerOf,
  number,
  numbers,
  ownOptions,
  reader,
  type Reader,
  tenantOrigin,
  type Env,
  type Given,
} from './checks.js';
import type { IntrospectionBase } from './introspection.js';
import {
  FINGERPRINT,
  KEY_CACHE,
  OPTIONS,
  SUPPORTED_ALGORITHMS,
  TOKEN_CACHE,
  type Algorithm,
  type BearerAuthOptions,
  type ResolvedConfig,
} from './options.js';

export function resolveConfig(given: BearerAuthOptions = {}): ResolvedConfig {
  const options = ownOptions(given, OPTIONS, 'cyberark-bearer');
  const env = envOf(options.env);
  const read = reader(options, env, OPTIONS);
  const allowInsecureHttp = flag(read('allowInsecureHttp'));
  const { issuers, jwksUri, tenant } = trustedIssuers(read, allowInsecureHttp);
  const audiences = stringList(read('audience'));
  if (!audiences) {
    throw new ConfigError(
      'audience',
      'is required: set it to the Audience of your CyberArk OAuth2 Server app (tokens for other apps of the tenant carry the same signature)',
      OPTIONS.audience.env,
    );
  }
  return Object.freeze({
    issuers,
    audiences,
    jwksUri,
    algorithms: algorithmList(read('algorithms')),
    clockTolerance: number(read('clockTolerance')),
    maxTokenAge: number(read('maxTokenAge')),
    scopeClaims: claimNames(read('scopeClaim')),
    realm: realmOf(read('realm')),
    onError: onErrorOf(read('onError')),
    allowQueryToken: flag(read('allowQueryToken')),
    allowBodyToken: flag(read('allowBodyToken')),
    strict: flag(read('strict')),
    maxTokenLength: number(read('maxTokenLength')),
    keyCache: numbers(read('keyCache'), KEY_CACHE),
    tokenCache: numbers(read('tokenCache'), TOKEN_CACHE),
    allowInsecureHttp,
    ...introspectionSettings(read, env, { tenant, issuers }, allowInsecureHttp),
    logger: loggerOf(read('logger'), env),
  });
}

function introspectionSettings(
  read: Reader<typeof OPTIONS>,
  env: Env,
  base: IntrospectionBase,
  allowInsecureHttp: boolean,
): Pick<ResolvedConfig, 'tokens' | 'introspection'> {
  const tokens = tokenKindsOf(read('tokens'));
  return { tokens, introspection: introspectionOf(read('introspection'), env, tokens, base, allowInsecureHttp) };
}

/** Identity of everything the verifier is built from: instances with equal ones share caches. */
export function verificationFingerprint(config: ResolvedConfig): string {
  const keys = Object.keys(FINGERPRINT) as Array<keyof ResolvedConfig>;
  return JSON.stringify(keys.filter((key) => FINGERPRINT[key]).map((key) => config[key]));
}

/**
 * Which `iss` values to accept and where their keys are: derived from tenantUrl and appId, or
 * given as issuer with jwksUri, or issuer alone (each issuer's keys then come from discovery).
 */
function trustedIssuers(
  read: Reader<typeof OPTIONS>,
  allowInsecureHttp: boolean,
): { issuers: readonly string[]; jwksUri: string | undefined; tenant: IntrospectionBase['tenant'] } {
  const tenant = read('tenantUrl');
  const app = read('appId');
  const tenantUrl = tenant.value === undefined ? undefined : tenantOrigin(tenant, allowInsecureHttp);
  const appId = app.value === undefined ? undefined : appIdOf(app);
  const issuerList = stringList(read('issuer'));
  const jwks = read('jwksUri');
  const jwksGiven = jwks.value !== undefined;
  if ((tenantUrl === undefined) !== (appId === undefined) && !(issuerList && jwksGiven)) {
    const [missing, have] = tenantUrl === undefined ? (['tenantUrl', 'appId'] as const) : (['appId', 'tenantUrl'] as const);
    throw new ConfigError(
      missing,
      `is required with ${have}: tokens are issued at ${'${tenantUrl}'}/oauth2/token/${'${appId}'}`,
      OPTIONS[missing].env,
    );
  }
  const base = tenantUrl !== undefined && appId !== undefined ? { tenantUrl, appId: encodeURIComponent(appId) } : undefined;

  const issuers = issuerList ?? (base ? Object.freeze([`${base.tenantUrl}/${base.appId}/`]) : undefined);
  if (!issuers) {
    throw new ConfigError(
      'tenantUrl',
      `and appId are required (or issuer, with jwksUri or discovery): nothing says which tokens to accept`,
      OPTIONS.tenantUrl.env,
    );
  }
  if (jwksGiven) return { issuers, jwksUri: checkUrl(jwks.value, jwks.option, jwks.spec.env, allowInsecureHttp).href, tenant: base };
  if (base) return { issuers, jwksUri: `${base.tenantUrl}/OAuth2/Keys/${base.appId}`, tenant: base };
  // Discovery: every issuer must be a URL whose metadata we can fetch.
  for (const issuer of issuers) checkUrl(issuer, 'issuer', OPTIONS.issuer.env, allowInsecureHttp);
  return { issuers, jwksUri: undefined, tenant: undefined };
}

/** A string-or-list option (issuer, audience). Env values are comma-separated; entries must be non-empty, unpadded strings. */
function stringList({ option, value, fromEnv, spec }: Given): readonly string[] | undefined {
  if (value === undefined) return undefined;
  let list: unknown[];
  if (fromEnv) list = (value as string).split(',').map((s) => s.trim());
  else if (typeof value === 'string') list = [value];
  else if (Array.isArray(value)) list = value;
  else throw new ConfigError(option, `must be a string or an array of strings, got ${kindOf(value)}`, spec.env);
  if (list.length === 0) throw new ConfigError(option, 'must not be an empty list', spec.env);
  for (const item of list) {
    if (typeof item !== 'string' || item === '') {
      throw new ConfigError(option, `entries must be non-empty strings, got ${kindOf(item)}`, spec.env);
    }
    if (item !== item.trim()) {
      throw new ConfigError(
        option,
        `entry ${JSON.stringify(item)} has leading or trailing spaces (values are compared exactly)`,
        spec.env,
      );
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

function algorithmList({ option, value, spec }: Given<typeof OPTIONS.algorithms>): readonly Algorithm[] {
  if (value === undefined) return Object.freeze([...spec.default]);
  if (!Array.isArray(value) || value.length === 0) {
    throw new ConfigError(option, `must be a non-empty array such as ['RS256'], got ${kindOf(value)}`);
  }
  for (const alg of value) {
    if (typeof alg === 'string' && alg.toLowerCase() === 'none') {
      throw new ConfigError(option, 'must not contain "none": unsigned tokens are never accepted');
    }
    if (typeof alg === 'string' && /^HS/i.test(alg)) {
      throw new ConfigError(
        option,
        `must not contain ${alg}: HMAC needs a shared secret, and CyberArk signs with the tenant's RSA key (RS256)`,
      );
    }
    if (!(SUPPORTED_ALGORITHMS as readonly unknown[]).includes(alg)) {
      throw new ConfigError(option, `has unsupported ${JSON.stringify(alg)} (supported: ${SUPPORTED_ALGORITHMS.join(', ')})`);
    }
  }
  return Object.freeze([...new Set(value as Algorithm[])]);
}

function claimNames({ option, value, spec }: Given<typeof OPTIONS.scopeClaim>): readonly string[] {
  if (value === undefined) return Object.freeze([...spec.default]);
  const list: unknown = typeof value === 'string' ? [value] : value;
  if (!Array.isArray(list) || list.length === 0 || list.some((c) => typeof c !== 'string' || c === '')) {
    throw new ConfigError(option, 'must be a claim name or a non-empty array of claim names');
  }
  return Object.freeze([...(list as string[])]);
}

/** A realm goes into a quoted-string: printable ASCII without `"` and `\`. */
const REALM = /^[\x20\x21\x23-\x5B\x5D-\x7E]+$/;

function realmOf({ option, value, spec }: Given<typeof OPTIONS.realm>): string {
  const realm = value === undefined ? spec.default : value;
  if (typeof realm !== 'string' || !REALM.test(realm)) {
    throw new ConfigError(option, 'must be a non-empty string of printable ASCII without quotes or backslashes');
  }
  return realm;
}

function onErrorOf({ option, value, spec }: Given<typeof OPTIONS.onError>): 'respond' | 'next' {
  const onError = value === undefined ? spec.default : value;
  if (onError !== 'respond' && onError !== 'next') {
    throw new ConfigError(option, `must be "respond" or "next", got ${JSON.stringify(onError)}`);
  }
  return onError;
}
