/**
 * `createBearerAuth()`'s options validated once, top-down in table order, into a frozen config.
 * Every mistake throws a ConfigError at construction naming the option; nothing fails later.
 */
import { ConfigError } from '../errors.js';
import { canonicalResource } from '../jwt/audience.js';
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
  ownProperties,
  reader,
  type Reader,
  tenantOrigin,
  type Env,
  type Given,
} from './checks.js';
import { claimRulesOf } from './claims.js';
import type { IntrospectionBase } from './introspection.js';
import {
  FINGERPRINT,
  ISSUER_OPTIONS,
  KEY_CACHE,
  ONE_ISSUER_OPTIONS,
  OPTIONS,
  SUPPORTED_ALGORITHMS,
  TOKEN_CACHE,
  type Algorithm,
  type BearerAuthOptions,
  type ResolvedConfig,
  type ResolvedIssuer,
} from './options.js';

export function resolveConfig(given: BearerAuthOptions = {}): ResolvedConfig {
  const options = ownOptions(given, OPTIONS, 'cyberark-bearer');
  const env = envOf(options.env);
  const read = reader(options, env, OPTIONS);
  const allowInsecureHttp = flag(read('allowInsecureHttp'));
  const resource = resourceOf(read('resource'), allowInsecureHttp);
  const one = options.issuers === undefined ? oneIssuer(read, resource, allowInsecureHttp) : undefined;
  const shared = {
    algorithms: algorithmList(read('algorithms')),
    clockTolerance: number(read('clockTolerance')),
    maxTokenAge: number(read('maxTokenAge')),
    scopeClaims: claimNames(read('scopeClaim')),
  };
  const claims = claimRulesOf(read('claims'));
  const perIssuer = one
    ? one.issuers.map((issuer) =>
        Object.freeze({
          issuer,
          audiences: one.audiences,
          audienceComparison: one.audienceComparison,
          jwksUri: one.jwksUri,
          ...shared,
          claims: rulesList(claims),
        }),
      )
    : issuerTable(options, read('issuers'), { ...shared, claims }, resource, allowInsecureHttp);
  const jwksUris = new Set(perIssuer.map((i) => i.jwksUri));
  return Object.freeze({
    issuers: Object.freeze(perIssuer.map((i) => i.issuer)),
    audiences: Object.freeze([...new Set(perIssuer.flatMap((i) => i.audiences))]),
    jwksUri: jwksUris.size === 1 ? perIssuer[0]!.jwksUri : undefined,
    perIssuer: Object.freeze(perIssuer),
    resource,
    ...shared,
    claims,
    realm: realmOf(read('realm')),
    onError: onErrorOf(read('onError')),
    allowQueryToken: flag(read('allowQueryToken')),
    allowBodyToken: flag(read('allowBodyToken')),
    strict: flag(read('strict')),
    maxTokenLength: number(read('maxTokenLength')),
    keyCache: numbers(read('keyCache'), KEY_CACHE),
    tokenCache: numbers(read('tokenCache'), TOKEN_CACHE),
    allowInsecureHttp,
    ...introspectionSettings(read, env, { tenant: one?.tenant, issuers: perIssuer.map((i) => i.issuer) }, allowInsecureHttp),
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

const functionIds = new WeakMap<object, number>();
let nextFunctionId = 0;

/**
 * Identity of everything the verifier is built from: instances with equal ones share caches. A
 * function (a claim rule) counts by identity: the same function, the same rule.
 */
export function verificationFingerprint(config: ResolvedConfig): string {
  const keys = Object.keys(FINGERPRINT) as Array<keyof ResolvedConfig>;
  return JSON.stringify(
    keys.filter((key) => FINGERPRINT[key]).map((key) => config[key]),
    (_key, value: unknown) => {
      if (typeof value !== 'function') return value;
      let id = functionIds.get(value);
      if (id === undefined) functionIds.set(value, (id = nextFunctionId++));
      return `function ${id}`;
    },
  );
}

const rulesList = (...rules: ReadonlyArray<ResolvedIssuer['claims'][number] | undefined>): ResolvedIssuer['claims'] =>
  Object.freeze(rules.filter((rule) => rule !== undefined));

/** The single-issuer options (and env vars): the issuers they name, one audience list and key source for all. */
function oneIssuer(
  read: Reader<typeof OPTIONS>,
  resource: string | undefined,
  allowInsecureHttp: boolean,
): {
  issuers: readonly string[];
  audiences: readonly string[];
  audienceComparison: 'exact' | 'resource';
  jwksUri: string | undefined;
  tenant: IntrospectionBase['tenant'];
} {
  const trusted = trustedIssuers(read, stringList, allowInsecureHttp);
  const audience = audiencesOf(
    read('audience'),
    resource,
    () =>
      new ConfigError(
        'audience',
        'is required: set it to the Audience of your CyberArk OAuth2 Server app (tokens for other apps of the tenant carry the same signature), or set resource to use its URI as the audience',
        OPTIONS.audience.env,
      ),
  );
  return { ...trusted, ...audience };
}

type IssuerReader = (option: 'tenantUrl' | 'appId' | 'issuer' | 'jwksUri') => Given;

/**
 * Which `iss` values to accept and where their keys are: derived from tenantUrl and appId, or
 * given as issuer with jwksUri, or issuer alone (each issuer's keys then come from discovery).
 */
function trustedIssuers(
  read: IssuerReader,
  issuerList: (given: Given) => readonly string[] | undefined,
  allowInsecureHttp: boolean,
): { issuers: readonly string[]; jwksUri: string | undefined; tenant: IntrospectionBase['tenant'] } {
  const tenant = read('tenantUrl');
  const app = read('appId');
  const tenantUrl = tenant.value === undefined ? undefined : tenantOrigin(tenant, allowInsecureHttp);
  const appId = app.value === undefined ? undefined : appIdOf(app);
  const issuerGiven = read('issuer');
  const given = issuerList(issuerGiven);
  const jwks = read('jwksUri');
  const jwksGiven = jwks.value !== undefined;
  if ((tenantUrl === undefined) !== (appId === undefined) && !(given && jwksGiven)) {
    const [missing, have] = tenantUrl === undefined ? [tenant, app] : [app, tenant];
    throw new ConfigError(
      missing.option,
      `is required with ${have.option}: tokens are issued at ${'${tenantUrl}'}/oauth2/token/${'${appId}'}`,
      missing.spec.env,
    );
  }
  const base = tenantUrl !== undefined && appId !== undefined ? { tenantUrl, appId: encodeURIComponent(appId) } : undefined;

  const issuers = given ?? (base ? Object.freeze([`${base.tenantUrl}/${base.appId}/`]) : undefined);
  if (!issuers) {
    throw new ConfigError(
      tenant.option,
      `and appId are required (or issuer, with jwksUri or discovery): nothing says which tokens to accept`,
      tenant.spec.env,
    );
  }
  if (jwksGiven)
    return { issuers, jwksUri: checkUrl(jwks.value, jwks.option, jwks.spec.env, allowInsecureHttp).href, tenant: base };
  if (base) return { issuers, jwksUri: `${base.tenantUrl}/OAuth2/Keys/${base.appId}`, tenant: base };
  // Discovery: every issuer must be a URL whose metadata we can fetch.
  for (const issuer of issuers) checkUrl(issuer, issuerGiven.option, issuerGiven.spec.env, allowInsecureHttp);
  return { issuers, jwksUri: undefined, tenant: undefined };
}

/**
 * The `resource` option in canonical form: an https URL (http on loopback, or anywhere with
 * allowInsecureHttp) without credentials, fragment or query, as RFC 8707 and MCP want it.
 */
function resourceOf({ option, value, spec }: Given<typeof OPTIONS.resource>, allowInsecureHttp: boolean): string | undefined {
  if (value === undefined) return undefined;
  const url = checkUrl(value, option, spec.env, allowInsecureHttp);
  const canonical = canonicalResource(value as string);
  // As a URL parser reads it too (no dot segments, no other percent-encoding): clients build the
  // metadata URL from it with one.
  if (canonical === undefined || url.search || (value as string).includes('?') || canonicalResource(url.href) !== canonical) {
    throw new ConfigError(
      option,
      `must be an absolute URI in normal form without query or fragment (e.g. https://api.example.com/mcp), got ${JSON.stringify(value)}`,
      spec.env,
    );
  }
  return canonical;
}

/**
 * The audiences an issuer's tokens must name: as given, compared exactly; else the declared
 * resource, compared as RFC 8707 says (scheme and host in any case).
 */
function audiencesOf(
  given: Given,
  resource: string | undefined,
  missing: () => ConfigError,
): { audiences: readonly string[]; audienceComparison: 'exact' | 'resource' } {
  const list = stringList(given);
  if (list) return { audiences: list, audienceComparison: 'exact' };
  if (resource !== undefined) return { audiences: Object.freeze([resource]), audienceComparison: 'resource' };
  throw missing();
}

/** An entry's `issuer`: one string. */
function oneIssuerString(given: Given): readonly string[] | undefined {
  if (given.value !== undefined && typeof given.value !== 'string') {
    throw new ConfigError(given.option, `must be a string (one issuer per entry), got ${kindOf(given.value)}`);
  }
  return stringList(given);
}

/** What an entry of `issuers` takes from the top level unless it sets its own. */
type SharedSettings = Omit<ResolvedIssuer, 'issuer' | 'audiences' | 'audienceComparison' | 'jwksUri' | 'claims'> & {
  readonly claims: ResolvedIssuer['claims'][number] | undefined;
};

/** The `issuers` option: each entry resolved with the shared settings; no issuer twice. */
function issuerTable(
  options: Record<string, unknown>,
  { option, value }: Given,
  shared: SharedSettings,
  resource: string | undefined,
  allowInsecureHttp: boolean,
): ResolvedIssuer[] {
  for (const name of ONE_ISSUER_OPTIONS) {
    if (options[name] !== undefined) {
      throw new ConfigError(name, `cannot be used with ${option}: give each issuer its own in its entry of ${option}`);
    }
  }
  if (!Array.isArray(value)) {
    throw new ConfigError(option, `must be an array of issuers such as [{ tenantUrl, appId, audience }], got ${kindOf(value)}`);
  }
  if (value.length === 0) throw new ConfigError(option, 'must list at least one issuer');
  const seen = new Map<string, string>();
  return value.map((entry: unknown, i) => {
    const at = `${option}[${i}]`;
    const resolved = issuerEntry(entry, at, shared, resource, allowInsecureHttp);
    const first = seen.get(resolved.issuer);
    if (first !== undefined) {
      throw new ConfigError(
        `${at}.issuer`,
        `names the issuer of ${first} again (${JSON.stringify(resolved.issuer)}): which entry's rules would apply is not clear`,
      );
    }
    seen.set(resolved.issuer, at);
    return resolved;
  });
}

function issuerEntry(
  entry: unknown,
  at: string,
  shared: SharedSettings,
  resource: string | undefined,
  allowInsecureHttp: boolean,
): ResolvedIssuer {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new ConfigError(at, `must be an object such as { tenantUrl, appId, audience }, got ${kindOf(entry)}`);
  }
  const given = ownProperties(entry);
  for (const key of Object.keys(given)) {
    if (!Object.hasOwn(ISSUER_OPTIONS, key)) {
      throw new ConfigError(
        `${at}.${key}`,
        `is not an option of an issuers entry (known: ${Object.keys(ISSUER_OPTIONS).join(', ')}; the others are shared)`,
      );
    }
  }
  const read = <K extends keyof typeof ISSUER_OPTIONS>(option: K): Given<(typeof ISSUER_OPTIONS)[K]> => ({
    option: `${at}.${option}`,
    value: given[option],
    fromEnv: false,
    spec: ISSUER_OPTIONS[option],
  });
  const { issuers, jwksUri } = trustedIssuers(read, oneIssuerString, allowInsecureHttp);
  const audience = audiencesOf(
    read('audience'),
    resource,
    () =>
      new ConfigError(
        `${at}.audience`,
        "is required (or resource): the Audience of this issuer's app, which only its tokens may name",
      ),
  );
  const override = <K extends 'algorithms' | 'clockTolerance' | 'maxTokenAge' | 'scopeClaim', T>(
    option: K,
    fallback: T,
    parse: (given: Given<(typeof ISSUER_OPTIONS)[K]>) => T,
  ): T => (given[option] === undefined ? fallback : parse(read(option)));
  return Object.freeze({
    issuer: issuers[0]!,
    ...audience,
    jwksUri,
    algorithms: override('algorithms', shared.algorithms, algorithmList),
    clockTolerance: override('clockTolerance', shared.clockTolerance, (g) => number(g)),
    maxTokenAge: override('maxTokenAge', shared.maxTokenAge, (g) => number(g)),
    scopeClaims: override('scopeClaim', shared.scopeClaims, claimNames),
    claims: rulesList(shared.claims, claimRulesOf(read('claims'))),
  });
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
