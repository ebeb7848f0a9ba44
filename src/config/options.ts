/**
 * The options of `createBearerAuth()`, the config they resolve into, and the table every list
 * about them is derived from: known names, env vars, defaults, bounds, what the verifier shares.
 */
import { DEFAULT_REALM } from '../errors.js';
import type { ClaimRules } from '../jwt/claim-rules.js';
import type { BearerLogger } from '../log.js';
import { MAX_TIMER_SECONDS, type NumberSpec, type OptionSpec } from './checks.js';

/** JWS algorithms a resource server may accept from an asymmetric JWKS. */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
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

/**
 * One entry of `issuers`: an issuer (a CyberArk OAuth2 Server app, or another), the audience of its
 * tokens, and what it overrides of the shared settings. Named as the single-issuer options are.
 */
export interface IssuerOptions {
  /** With `appId`: the issuer is `${tenantUrl}/${appId}/` and its keys are at `${tenantUrl}/OAuth2/Keys/${appId}`. */
  tenantUrl?: string | undefined;
  appId?: string | undefined;
  /** The exact `iss` of its tokens (one per entry). Default `${tenantUrl}/${appId}/`. */
  issuer?: string | undefined;
  /** Default `${tenantUrl}/OAuth2/Keys/${appId}`, else discovered from the issuer. Issuers naming the same URL share one key set. */
  jwksUri?: string | undefined;
  /** Accepted `aud` values of this issuer's tokens, and of no other issuer's. Required unless `resource` is set: then the resource. */
  audience?: string | readonly string[] | undefined;
  /** Instead of the shared `algorithms`. */
  algorithms?: readonly Algorithm[] | undefined;
  /** Instead of the shared `clockTolerance`. */
  clockTolerance?: number | undefined;
  /** Instead of the shared `maxTokenAge`. */
  maxTokenAge?: number | undefined;
  /** Instead of the shared `scopeClaim`. */
  scopeClaim?: string | readonly string[] | undefined;
  /** Claim rules for this issuer's tokens, checked after the shared `claims` (both must pass). */
  claims?: ClaimRules | undefined;
}

/**
 * Which access tokens an instance accepts: `'jwt'`, JWTs verified locally; `'opaque'`, every
 * token introspected; `'any'`, JWS-shaped tokens verified locally and the others introspected.
 */
export type TokenKinds = 'jwt' | 'opaque' | 'any';

/** RFC 7662 token introspection at the issuer. Durations in seconds. */
export interface IntrospectionOptions {
  /** The login of a service user allowed to introspect. Env `CYBERARK_INTROSPECTION_CLIENT_ID`. */
  clientId?: string | undefined;
  /** Its password. Env `CYBERARK_INTROSPECTION_CLIENT_SECRET`. Never logged. */
  clientSecret?: string | undefined;
  /** Env `CYBERARK_INTROSPECTION_URL`. Default `${tenantUrl}/OAuth2/Introspect/${appId}`, else `introspection_endpoint` from the issuer's discovery document. */
  url?: string | undefined;
  /** How long an active answer is relied on (never beyond the token's `exp`): the longest a revocation goes unnoticed. Default 30; 0 asks on every request. */
  cacheTtl?: number | undefined;
  /** How long a refusal (an inactive token) is remembered, so that a bad token repeated costs one call. Default 10. */
  negativeCacheTtl?: number | undefined;
  /** Most introspection calls in flight at once. Default 16. */
  maxConcurrent?: number | undefined;
  /** Calls per second for tokens not seen before (a token bucket holding as many). Default 50. */
  newTokensPerSecond?: number | undefined;
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
  /**
   * This API's resource identifier (RFC 8707, RFC 9728): for an MCP server, the URL clients connect
   * to, e.g. `https://api.example.com/mcp`. An https URL (http on loopback) without fragment, query
   * or credentials. Env `CYBERARK_RESOURCE`. Serves `protectedResource()` and names its metadata in
   * every challenge; without `audience`, tokens must name it as their `aud`.
   */
  resource?: string | undefined;
  /**
   * Accepted `aud` values, compared exactly. Env `CYBERARK_AUDIENCE` (comma-separated). Required,
   * unless `resource` is set: the audience is then the resource, scheme and host compared in any case.
   */
  audience?: string | readonly string[] | undefined;
  /**
   * Several issuers, each with its own audience (and overrides), instead of `tenantUrl`, `appId`,
   * `issuer`, `jwksUri` and `audience`. A token is routed by its exact `iss` to one of them and
   * held to that one's keys, audience and rules only. No env var.
   */
  issuers?: readonly IssuerOptions[] | undefined;
  /** Accepted `alg` values. Default `['RS256']`. `none` and HMAC algorithms are refused. */
  algorithms?: readonly Algorithm[] | undefined;
  /** Leeway for `exp`, `nbf` and `iat`, in seconds. Default 30. */
  clockTolerance?: number | undefined;
  /** Refuse tokens whose `iat` is older than this many seconds. Default: unset. */
  maxTokenAge?: number | undefined;
  /** Claim(s) holding the granted scopes, first present wins. Default `['scope', 'scp']`. */
  scopeClaim?: string | readonly string[] | undefined;
  /**
   * Rules every token's claims must pass, else 401 `claim_mismatch`: exact values
   * (`{ app_id: 'orders-api', tenant_type: ['prod', 'dr'] }`), or a synchronous function run on
   * every request. Default: none.
   */
  claims?: ClaimRules | undefined;
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
  /** Which tokens are accepted: `'jwt'` (default), `'opaque'` or `'any'`. Env `CYBERARK_TOKENS`. */
  tokens?: TokenKinds | undefined;
  /** Token introspection: required for `tokens: 'opaque'` or `'any'` and for routes with `{ revocation: 'introspect' }`. */
  introspection?: IntrospectionOptions | undefined;
  /** Where environment variables are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** One accepted issuer and everything its tokens are held to, shared settings filled in. */
export interface ResolvedIssuer {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** `exact`, or `resource` when the audience is the resource: `aud` is then compared as RFC 8707 says. */
  readonly audienceComparison: 'exact' | 'resource';
  /** Undefined when discovered from the issuer. */
  readonly jwksUri: string | undefined;
  readonly algorithms: readonly Algorithm[];
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly scopeClaims: readonly string[];
  /** The shared rules, then the issuer's own: every one must pass. */
  readonly claims: readonly ClaimRules[];
}

export interface ResolvedConfig {
  /** Every accepted issuer. */
  readonly issuers: readonly string[];
  /** Every accepted audience, of any issuer (each issuer accepts its own: see `perIssuer`). */
  readonly audiences: readonly string[];
  /** The JWKS URL when one serves every issuer, else undefined (see `perIssuer`). */
  readonly jwksUri: string | undefined;
  /** Each issuer, what its tokens must name and pass, where its keys are: what the verifier is built from. */
  readonly perIssuer: readonly ResolvedIssuer[];
  /** The resource identifier in canonical form (see jwt/audience.ts), when declared. */
  readonly resource: string | undefined;
  readonly algorithms: readonly Algorithm[];
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly scopeClaims: readonly string[];
  /** The shared claim rules. */
  readonly claims: ClaimRules | undefined;
  readonly realm: string;
  readonly onError: 'respond' | 'next';
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
  readonly strict: boolean;
  readonly maxTokenLength: number;
  readonly keyCache: Readonly<{ [K in keyof KeyCacheOptions]-?: number }>;
  readonly tokenCache: Readonly<{ [K in keyof VerifiedTokenCacheOptions]-?: number }>;
  readonly allowInsecureHttp: boolean;
  readonly tokens: TokenKinds;
  /** Undefined when introspection is not configured. The secret is not in it. */
  readonly introspection: ResolvedIntrospection | undefined;
  readonly logger: BearerLogger;
}

export interface ResolvedIntrospection {
  /** The endpoint, or undefined when it is read from the (single) issuer's discovery document. */
  readonly url: string | undefined;
  readonly clientId: string;
  readonly cacheTtl: number;
  readonly negativeCacheTtl: number;
  readonly maxConcurrent: number;
  readonly newTokensPerSecond: number;
}

/**
 * Every option, in the order it is resolved (a missing or extra name is a compile error). Only
 * these names are accepted; `env` names the variable read when the option is not given.
 */
export const OPTIONS = {
  env: {},
  allowInsecureHttp: { default: false },
  tenantUrl: { env: 'CYBERARK_TENANT_URL' },
  appId: { env: 'CYBERARK_APP_ID' },
  issuer: { env: 'CYBERARK_ISSUER' },
  jwksUri: { env: 'CYBERARK_JWKS_URI' },
  resource: { env: 'CYBERARK_RESOURCE' },
  audience: { env: 'CYBERARK_AUDIENCE' },
  issuers: {},
  algorithms: { default: ['RS256'] as readonly Algorithm[] },
  clockTolerance: { default: 30 },
  maxTokenAge: { greaterThan: 0 },
  scopeClaim: { default: ['scope', 'scp'] as readonly string[] },
  claims: {},
  realm: { default: DEFAULT_REALM },
  onError: { default: 'respond' },
  allowQueryToken: { default: false },
  allowBodyToken: { default: false },
  strict: { default: false },
  maxTokenLength: { default: 16_384, integer: true, min: 64 },
  keyCache: {},
  tokenCache: {},
  tokens: { env: 'CYBERARK_TOKENS', default: 'jwt' },
  introspection: {},
  logger: {},
} as const satisfies Record<keyof BearerAuthOptions, OptionSpec>;

/** The options that name one issuer: in `issuers` they are set per entry, never at the top level. */
export const ONE_ISSUER_OPTIONS = ['tenantUrl', 'appId', 'issuer', 'jwksUri', 'audience'] as const satisfies ReadonlyArray<
  keyof BearerAuthOptions & keyof IssuerOptions
>;

/** What an entry of `issuers` may set (no env vars); overrides are checked as the shared option is. */
export const ISSUER_OPTIONS = {
  tenantUrl: {},
  appId: {},
  issuer: {},
  jwksUri: {},
  audience: {},
  algorithms: OPTIONS.algorithms,
  clockTolerance: OPTIONS.clockTolerance,
  maxTokenAge: OPTIONS.maxTokenAge,
  scopeClaim: OPTIONS.scopeClaim,
  claims: OPTIONS.claims,
} as const satisfies Record<keyof IssuerOptions, OptionSpec>;

export const KEY_CACHE = {
  maxAge: { default: 600, greaterThan: 0 },
  // Without a floor, a flood of random key ids becomes a flood of JWKS fetches.
  cooldown: { default: 30, min: 1 },
  // A longer timer fires at once (Node clamps it to 1 ms), so every fetch would time out.
  timeout: { default: 5, greaterThan: 0, max: MAX_TIMER_SECONDS },
  staleIfError: { default: 3600 },
  maxBytes: { default: 256 * 1024, integer: true, min: 1024 },
} as const satisfies Record<keyof KeyCacheOptions, NumberSpec>;

export const INTROSPECTION = {
  clientId: { env: 'CYBERARK_INTROSPECTION_CLIENT_ID' },
  clientSecret: { env: 'CYBERARK_INTROSPECTION_CLIENT_SECRET' },
  url: { env: 'CYBERARK_INTROSPECTION_URL' },
  cacheTtl: { default: 30 },
  negativeCacheTtl: { default: 10 },
  maxConcurrent: { default: 16, integer: true, min: 1, max: 1024 },
  newTokensPerSecond: { default: 50, integer: true, min: 1, max: 100_000 },
} as const satisfies Record<keyof IntrospectionOptions, OptionSpec>;

/** lru-cache allocates its index for `max` entries up front: beyond this, startup memory balloons. */
const TOKEN_CACHE_LIMIT = 1_000_000;

export const TOKEN_CACHE = {
  max: { default: 10_000, integer: true, min: 0, max: TOKEN_CACHE_LIMIT },
} as const satisfies Record<keyof VerifiedTokenCacheOptions, NumberSpec>;

/**
 * Which resolved settings the verifier is built from (`true`): instances equal in all of them
 * share one verifier, so one key cache and one token cache. The others only shape the answer.
 */
export const FINGERPRINT = {
  issuers: true,
  audiences: true,
  // Only shapes the answer (metadata, challenges); as the audience it is in `audiences`.
  resource: false,
  jwksUri: true,
  perIssuer: true,
  algorithms: true,
  clockTolerance: true,
  maxTokenAge: true,
  scopeClaims: true,
  claims: true,
  realm: false,
  onError: false,
  allowQueryToken: false,
  allowBodyToken: false,
  strict: true,
  maxTokenLength: true,
  keyCache: true,
  tokenCache: true,
  allowInsecureHttp: true,
  // The JWT verifier is the same whatever these say; the introspector is keyed by its own settings.
  tokens: false,
  introspection: false,
  // Shared verifiers log to one logger: auth.ts keys them by logger apart.
  logger: false,
} as const satisfies Record<keyof ResolvedConfig, boolean>;
