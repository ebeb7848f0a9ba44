/**
 * The refusals a protected resource can give (RFC 6750 §3) and the configuration error.
 * Every description here is a fixed string of ours: nothing a client sends ever reaches a header.
 */

/** Why a request was refused: a stable code to branch on, log and count. */
export type RefusalReason =
  | 'no_credentials'
  | 'malformed_request'
  | 'several_tokens'
  | 'token_in_query'
  | 'token_in_body'
  | 'token_too_large'
  | 'not_a_jwt'
  | 'encrypted_token'
  | 'malformed_token'
  | 'unsupported_token'
  | 'algorithm_not_allowed'
  | 'unknown_key'
  | 'ambiguous_key'
  | 'key_mismatch'
  | 'bad_signature'
  | 'token_expired'
  | 'token_too_old'
  | 'token_not_yet_valid'
  | 'issued_in_future'
  | 'missing_expiry'
  | 'missing_claim'
  | 'invalid_claim'
  | 'unexpected_issuer'
  | 'unexpected_audience'
  | 'unexpected_type'
  | 'claim_mismatch'
  | 'insufficient_scope'
  | 'keys_unavailable'
  | 'token_inactive'
  | 'introspection_unavailable'
  | 'introspection_busy';

/** What each reason tells the client. ASCII only, no quotes or backslashes (RFC 6750 §3). */
const DESCRIPTIONS: Readonly<Record<RefusalReason, string>> = {
  no_credentials: 'bearer token required',
  malformed_request: 'malformed Authorization header',
  several_tokens: 'more than one bearer token in the request',
  token_in_query: 'tokens in the query string are not accepted, use the Authorization header',
  token_in_body: 'tokens in the request body are not accepted, use the Authorization header',
  token_too_large: 'token too large',
  not_a_jwt: 'token is not a JWT (opaque tokens are not accepted)',
  encrypted_token: 'encrypted tokens (JWE) are not accepted',
  malformed_token: 'malformed token',
  unsupported_token: 'token uses an unsupported feature',
  algorithm_not_allowed: 'token algorithm not allowed',
  unknown_key: 'token signed by an unknown key',
  ambiguous_key: 'token has no key id and several keys could match',
  key_mismatch: 'token algorithm does not match its key',
  bad_signature: 'invalid signature',
  token_expired: 'token expired',
  token_too_old: 'token too old',
  token_not_yet_valid: 'token not yet valid',
  issued_in_future: 'token issued in the future',
  missing_expiry: 'token has no expiry',
  missing_claim: 'token lacks a required claim',
  invalid_claim: 'token claim has an invalid value',
  unexpected_issuer: 'unexpected issuer',
  unexpected_audience: 'unexpected audience',
  unexpected_type: 'unexpected token type',
  claim_mismatch: 'token claims not accepted',
  insufficient_scope: 'insufficient scope',
  keys_unavailable: 'signing keys unavailable, try again later',
  token_inactive: 'token is not active',
  introspection_unavailable: 'token introspection unavailable, try again later',
  introspection_busy: 'too many tokens to introspect, try again later',
};

/** The OAuth 2.0 `error` codes of RFC 6750 §3.1, plus the body-only ones we use. */
export type OAuthErrorCode =
  'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unauthorized' | 'temporarily_unavailable';

export const DEFAULT_REALM = 'api';

/** What a refusal may carry for the log line besides its reason (`cause` as for any Error). */
export interface RefusalOptions extends ErrorOptions {
  /** `sub` of the token, only once its signature was verified. */
  readonly subject?: string | undefined;
  /** `kid` of the token header, only when short and printable. */
  readonly kid?: string | undefined;
  /** What failed, in our words or a claim rule's: for the log only. */
  readonly detail?: string | undefined;
}

/**
 * What a challenge says besides the error, once the API declares its `resource`: where its
 * metadata is (RFC 9728 §5.1), and the scopes the route needs, so that a client (MCP's) can
 * ask for them in one go.
 */
export interface ChallengeParams {
  /** The URL of the protected resource's metadata, sent as `resource_metadata`. */
  readonly resourceMetadata?: string | undefined;
  /** The route's required scopes, space-separated: sent as `scope` on a 401 (a 403 names its own). */
  readonly scope?: string | undefined;
}

/** An RFC 9110 quoted-string: `"` and `\` escaped. */
function quoted(value: string): string {
  return `"${value.replace(/["\\]/g, '\\$&')}"`;
}

/**
 * Base of every refusal. Carries what an HTTP layer needs (`status`, `headers`, `body`), so an
 * app's own error handler, or another framework, can answer exactly as the middleware would.
 */
export abstract class BearerError extends Error {
  /** Stable code of the class, e.g. `ERR_BEARER_INVALID_TOKEN`. */
  abstract readonly code: string;
  /** HTTP status to answer with. */
  abstract readonly status: number;
  /** The `error` value in the JSON body (and in `WWW-Authenticate` where RFC 6750 has one). */
  abstract readonly error: OAuthErrorCode;
  /** Fine-grained reason, for logs and metrics. */
  readonly reason: RefusalReason;
  /** Safe to show to the client: a fixed description, never derived from the request. */
  readonly description: string;
  /** For http-errors-style handlers (Express's finalhandler reads these). */
  readonly expose = true;
  /** `sub` of the token, when its signature was verified. For logs; never sent to the client. */
  readonly subject: string | undefined;
  /** `kid` of the token header, when short and printable. For logs; never sent to the client. */
  readonly kid: string | undefined;
  /** For `claim_mismatch`: which rule failed, or the reason a function rule gave. For logs; never sent to the client. */
  readonly detail: string | undefined;
  /** The realm of `headers`: the configured one on errors from an instance (see `withRealm`). */
  readonly realm: string = DEFAULT_REALM;
  /** What `headers` adds to the challenge once a resource is declared (see `withRealm`). */
  readonly challengeParams: ChallengeParams | undefined = undefined;

  constructor(reason: RefusalReason, options?: RefusalOptions) {
    const description = DESCRIPTIONS[reason];
    super(description, options);
    this.name = new.target.name;
    this.reason = reason;
    this.description = description;
    this.subject = options?.subject;
    this.kid = options?.kid;
    this.detail = options?.detail;
  }

  get statusCode(): number {
    return this.status;
  }

  /** The JSON body of the refusal. */
  get body(): { error: OAuthErrorCode; error_description: string } {
    return { error: this.error, error_description: this.description };
  }

  /** The `WWW-Authenticate` challenge for the given realm and params, or undefined when none is due. */
  challenge(realm: string, params: ChallengeParams | undefined = this.challengeParams): string | undefined {
    return `Bearer realm="${realm}", error="${this.error}", error_description="${this.description}"${this.challengeTail(params)}`;
  }

  /** All response headers of the refusal, for the given realm and params. */
  headersFor(realm: string, params: ChallengeParams | undefined = this.challengeParams): Record<string, string> {
    const headers: Record<string, string> = { 'Cache-Control': 'no-store' };
    const challenge = this.challenge(realm, params);
    if (challenge !== undefined) headers['WWW-Authenticate'] = challenge;
    return headers;
  }

  /** The `scope` of the challenge: on a 401, the route's (a 403 says which it lacked). */
  protected challengeScope(params: ChallengeParams | undefined): string | undefined {
    return this.status === 401 ? params?.scope : undefined;
  }

  /** `scope` and `resource_metadata`, when there are any, after the error. */
  protected challengeTail(params: ChallengeParams | undefined): string {
    const scope = this.challengeScope(params);
    const metadata = params?.resourceMetadata;
    return `${scope ? `, scope="${scope}"` : ''}${metadata !== undefined ? `, resource_metadata=${quoted(metadata)}` : ''}`;
  }

  /** Response headers for `realm`, for error handlers that read `err.headers` (Express's own does). */
  get headers(): Record<string, string> {
    return this.headersFor(this.realm);
  }

  /**
   * This refusal with `realm` and `params` in its `headers`. A copy when either differs: concurrent
   * requests with the same token share one verification, and its error, across instances and routes.
   */
  withRealm(realm: string, params?: ChallengeParams): this {
    if (realm === this.realm && params === this.challengeParams) return this;
    const copy = Object.create(Object.getPrototypeOf(this) as object, Object.getOwnPropertyDescriptors(this)) as this;
    Object.defineProperty(copy, 'realm', { value: realm });
    Object.defineProperty(copy, 'challengeParams', { value: params });
    return copy;
  }
}

/** 401 without an error code: the request carried no bearer credentials at all (RFC 6750 §3.1). */
export class MissingTokenError extends BearerError {
  readonly code = 'ERR_BEARER_MISSING_TOKEN';
  readonly status = 401;
  readonly error = 'unauthorized';
  constructor() {
    super('no_credentials');
  }
  override challenge(realm: string, params: ChallengeParams | undefined = this.challengeParams): string {
    return `Bearer realm="${realm}"${this.challengeTail(params)}`;
  }
}

/** 400 `invalid_request`: the request is malformed (RFC 6750 §3.1). */
export class InvalidRequestError extends BearerError {
  readonly code = 'ERR_BEARER_INVALID_REQUEST';
  readonly status = 400;
  readonly error = 'invalid_request';
}

/** 401 `invalid_token`: the token is malformed, expired, forged or meant for someone else. */
export class InvalidTokenError extends BearerError {
  readonly code = 'ERR_BEARER_INVALID_TOKEN';
  readonly status = 401;
  readonly error = 'invalid_token';
}

/** 403 `insufficient_scope`: a valid token without the scopes the route requires. */
export class InsufficientScopeError extends BearerError {
  readonly code = 'ERR_BEARER_INSUFFICIENT_SCOPE';
  readonly status = 403;
  readonly error = 'insufficient_scope';
  /** The scopes the route requires, space-separated (validated at construction). */
  readonly scope: string;
  constructor(scope: string, options?: RefusalOptions) {
    super('insufficient_scope', options);
    this.scope = scope;
  }
  protected override challengeScope(): string {
    return this.scope;
  }
  override get body() {
    return { ...super.body, scope: this.scope };
  }
}

/**
 * 503: what the answer depends on cannot be had now. Not the client's fault, so no challenge;
 * `Retry-After` says when to try again.
 */
export abstract class ServiceUnavailableError extends BearerError {
  readonly status = 503;
  readonly error = 'temporarily_unavailable';
  /** Seconds until another attempt may succeed. */
  readonly retryAfter: number;
  constructor(reason: RefusalReason, retryAfter: number, options?: RefusalOptions) {
    super(reason, options);
    this.retryAfter = Math.max(1, Math.ceil(retryAfter));
  }
  override challenge(): undefined {
    return undefined;
  }
  override headersFor(realm: string): Record<string, string> {
    return { ...super.headersFor(realm), 'Retry-After': String(this.retryAfter) };
  }
}

/** 503: the signing keys could not be obtained and no usable cached set exists. */
export class KeysUnavailableError extends ServiceUnavailableError {
  readonly code = 'ERR_BEARER_KEYS_UNAVAILABLE';
  constructor(retryAfter: number, options?: RefusalOptions) {
    super('keys_unavailable', retryAfter, options);
  }
}

/**
 * 503: the issuer's introspection endpoint cannot say whether the token is active (it is down,
 * slow, answers garbage, or the calls it may receive are used up).
 */
export class IntrospectionUnavailableError extends ServiceUnavailableError {
  readonly code = 'ERR_BEARER_INTROSPECTION_UNAVAILABLE';
  constructor(reason: 'introspection_unavailable' | 'introspection_busy', retryAfter: number, options?: RefusalOptions) {
    super(reason, retryAfter, options);
  }
}

/** Thrown at construction when an option is missing or wrong. Names the option and its env var. */
export class ConfigError extends Error {
  readonly code = 'ERR_BEARER_CONFIG';
  /** The option at fault, e.g. `audience`. */
  readonly option: string;
  constructor(option: string, problem: string, envVar?: string) {
    const where = envVar ? `option "${option}" (env ${envVar})` : `option "${option}"`;
    super(`cyberark-bearer: ${where} ${problem}`);
    this.name = 'ConfigError';
    this.option = option;
  }
}

/** Thrown by `ready()` when the signing keys cannot be fetched at boot. Message names the URL. */
export class KeysFetchError extends Error {
  readonly code = 'ERR_BEARER_KEYS_FETCH';
  readonly url: string;
  constructor(url: string, problem: string, options?: ErrorOptions) {
    super(`cyberark-bearer: cannot fetch signing keys from ${url}: ${problem}`, options);
    this.name = 'KeysFetchError';
    this.url = url;
  }
}
