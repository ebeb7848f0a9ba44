/**
 * The framework-free core: a token string in, a verified AuthInfo out (or a BearerError).
 * `jose` checks the signature and claims; we choose the key and turn its errors into reasons.
 */
import { decodeJwt, decodeProtectedHeader, jwtVerify, type CryptoKey, type JWTHeaderParameters, type JWTVerifyOptions } from 'jose';
import type { Algorithm } from '../config/options.js';
import { BearerError, InvalidTokenError, KeysUnavailableError, type RefusalReason } from '../errors.js';
import type { KeySource, KeySourceStatus } from '../jwks/remote.js';
import { errorFacts, type BearerLogger } from '../log.js';
import { compactHasDuplicateNames, hasCanonicalSegments } from './compact.js';
import { grantedScopes } from '../scopes.js';
import type { AuthInfo, Claims } from '../types.js';
import { keyOf, VerifiedTokenCache, type KeyUse } from './token-cache.js';

/** RFC 9068 §2.2: claims a JWT access token must carry in the strict profile. */
const RFC9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

/** One accepted issuer: its exact `iss`, the audiences its tokens may name, and where its keys come from. */
export interface IssuerRule {
  readonly issuer: string;
  readonly audiences: readonly string[];
  readonly keys: KeySource;
}

/** What a TokenVerifier checks, and with which keys. Durations in seconds. */
export interface VerifierOptions {
  readonly issuers: readonly IssuerRule[];
  readonly algorithms: readonly Algorithm[];
  /** Leeway for `exp`, `nbf` and `iat`. */
  readonly clockTolerance: number;
  /** Refuse tokens whose `iat` is older than this; undefined: no limit. */
  readonly maxTokenAge?: number | undefined;
  /** RFC 9068 profile: `typ: at+jwt` and its required claims. */
  readonly strict: boolean;
  /** Claims holding the granted scopes, first present wins. */
  readonly scopeClaims: readonly string[];
  /** Longest token accepted, in characters. */
  readonly maxTokenLength: number;
  /** Most verified tokens kept; 0 turns the cache off. */
  readonly tokenCache: { readonly max: number };
  /** For errors jose reports that we did not expect; never a request's logger (the verifier outlives it). */
  readonly logger: BearerLogger;
}

/** The keys and the jose checks for a token, chosen by its issuer. */
interface IssuerCheck {
  readonly keys: KeySource;
  readonly jose: JWTVerifyOptions;
}

export class TokenVerifier {
  readonly config: Readonly<VerifierOptions>;
  /** The check for every token when all issuers share keys and audiences: `iss` need not be read first. */
  readonly #common: IssuerCheck | undefined;
  /** Checks by exact issuer; a token's unverified `iss` picks one, and jose checks `iss` again. */
  readonly #byIssuer: ReadonlyMap<string, IssuerCheck>;
  readonly #cache: VerifiedTokenCache;
  /** Checks in progress, by the token's tail (as in the cache), holding the exact token. */
  readonly #inflight = new Map<string, { readonly token: string; readonly pending: Promise<AuthInfo<object>> }>();

  constructor(options: VerifierOptions) {
    this.config = Object.freeze({ ...options, issuers: Object.freeze([...options.issuers]) });
    const rules = this.config.issuers;
    const byIssuer = new Map<string, IssuerCheck>();
    for (const rule of rules) {
      if (byIssuer.has(rule.issuer)) throw new TypeError(`TokenVerifier: issuer ${JSON.stringify(rule.issuer)} is listed twice`);
      byIssuer.set(rule.issuer, { keys: rule.keys, jose: joseOptions([rule.issuer], rule.audiences, this.config) });
    }
    this.#byIssuer = byIssuer;
    this.#common = commonCheck(rules, this.config);
    this.#cache = new VerifiedTokenCache(this.config.tokenCache.max);
  }

  /**
   * The verification of a token seen before, if it still holds: synchronous, no signature
   * check. Undefined means "verify it" (never "invalid").
   */
  cached<C extends object = Claims>(token: string): AuthInfo<C> | undefined {
    return this.#cache.get(token, Date.now()) as AuthInfo<C> | undefined;
  }

  /**
   * Verifies a bearer token: structure, signature against the JWKS, algorithm, `exp` (required),
   * `nbf`, `iat`, issuer and audience. Throws InvalidTokenError or KeysUnavailableError.
   */
  async verify<C extends object = Claims>(token: string): Promise<AuthInfo<C>> {
    return this.cached<C>(token) ?? this.verifyUncached<C>(token);
  }

  /**
   * verify() for a token that `cached()` just missed: the full check, then into the cache.
   * Concurrent requests with the same token share one check (a cold start's burst, a client
   * that fans out): the work is done once and every caller gets its outcome.
   */
  verifyUncached<C extends object = Claims>(token: string): Promise<AuthInfo<C>> {
    const key = keyOf(token);
    const inflight = this.#inflight.get(key);
    if (inflight !== undefined && inflight.token === token) return inflight.pending as Promise<AuthInfo<C>>;
    const pending = this.#check(token);
    if (inflight === undefined) {
      this.#inflight.set(key, { token, pending });
      const forget = () => this.#inflight.delete(key);
      pending.then(forget, forget);
    }
    return pending as Promise<AuthInfo<C>>;
  }

  async #check(token: string): Promise<AuthInfo<object>> {
    precheck(token, this.config.maxTokenLength);
    const { keys: source, jose } = this.#common ?? this.#checkFor(token);
    // The key that verifies the signature, kept for the cache: a refresh may replace it meanwhile.
    let use: KeyUse | undefined;
    const getKey = async (header: JWTHeaderParameters): Promise<CryptoKey> => {
      const kid = own(header, 'kid');
      const alg = header.alg!;
      const entry = await source.getKey(kid, alg);
      use = { source, kid, alg, key: entry.key };
      return entry.cryptoKey(alg);
    };
    let payload: Record<string, unknown>;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, getKey, jose));
      if (compactHasDuplicateNames(token)) throw new InvalidTokenError('malformed_token');
      if (!numericDatesInRange(payload)) throw new InvalidTokenError('invalid_claim');
      // jose compares the `typ` it reads, which may be inherited from a polluted prototype.
      if (this.config.strict && !Object.hasOwn(header, 'typ')) throw new InvalidTokenError('unexpected_type');
    } catch (error) {
      throw this.#refusal(error, token);
    }
    const now = Date.now();
    const iat = own(payload, 'iat');
    const exp = own(payload, 'exp') as number;
    if (typeof iat === 'number' && iat > now / 1000 + this.config.clockTolerance) {
      throw new InvalidTokenError('issued_in_future');
    }
    const auth = toAuthInfo<object>(token, header, payload, this.config.scopeClaims);
    const { maxTokenAge } = this.config;
    const expiresAtMs = maxTokenAge === undefined ? exp * 1000 : Math.min(exp, (iat as number) + maxTokenAge) * 1000;
    this.#cache.add(token, auth, use!, expiresAtMs, now);
    return auth;
  }

  /** Fetches every key set now (and runs discovery). Throws KeysFetchError naming the URL. */
  async ready(): Promise<void> {
    await Promise.all([...new Set(this.config.issuers.map((rule) => rule.keys))].map((keys) => keys.ready()));
  }

  /** Per issuer: which keys are held, how old, and whether fetches fail. For readiness probes. */
  status(): Record<string, KeySourceStatus> {
    const out: Record<string, KeySourceStatus> = {};
    for (const rule of this.config.issuers) out[rule.issuer] = rule.keys.status();
    return out;
  }

  /** The check for a token's (unverified) `iss`; jose checks the issuer again after the signature. */
  #checkFor(token: string): IssuerCheck {
    let iss: unknown;
    try {
      iss = own(decodeJwt(token), 'iss');
    } catch {
      throw new InvalidTokenError('malformed_token');
    }
    const check = typeof iss === 'string' ? this.#byIssuer.get(iss) : undefined;
    if (!check) throw new InvalidTokenError('unexpected_issuer');
    return check;
  }

  /** The refusal for a failed check, with the facts a log line may carry: `kid`, and `sub` once the signature held. */
  #refusal(error: unknown, token: string): BearerError {
    const kid = loggableKid(token);
    if (error instanceof BearerError) {
      // Key sources and our checks refuse without these facts: the same refusal, with them.
      const options = Object.hasOwn(error, 'cause') ? { cause: error.cause, kid } : { kid };
      if (error instanceof KeysUnavailableError) return new KeysUnavailableError(error.retryAfter, options);
      if (error instanceof InvalidTokenError) return new InvalidTokenError(error.reason, options);
      return error;
    }
    // jose judges an absurd date before we see it (exp: -1e400 reads as expired): one reason for all.
    const claims = (error as { payload?: unknown }).payload;
    const signed = typeof claims === 'object' && claims !== null;
    const reason = signed && !numericDatesInRange(claims) ? 'invalid_claim' : joseReason(error);
    if (reason === undefined) this.config.logger.warn(errorFacts(error), 'unexpected error while verifying a token; refused');
    // jose attaches the claims only once the signature held, so `sub` is authentic here.
    const sub = signed ? own(claims, 'sub') : undefined;
    const subject = typeof sub === 'string' && sub.length <= 128 ? sub : undefined;
    return new InvalidTokenError(reason ?? 'malformed_token', { subject, kid });
  }
}

/** The jose options for tokens of `issuers` naming one of `audiences`. */
function joseOptions(issuers: readonly string[], audiences: readonly string[], options: VerifierOptions): JWTVerifyOptions {
  return Object.freeze({
    algorithms: [...options.algorithms],
    issuer: [...issuers],
    audience: [...audiences],
    clockTolerance: options.clockTolerance,
    requiredClaims: options.strict ? RFC9068_CLAIMS : ['exp'],
    ...(options.maxTokenAge !== undefined ? { maxTokenAge: options.maxTokenAge } : {}),
    ...(options.strict ? { typ: 'at+jwt' } : {}),
  });
}

/**
 * One check for every issuer when all share their keys and audiences (one JWKS URL for all, or a
 * single issuer), so a token's `iss` is checked by jose alone, after its signature; else undefined.
 */
function commonCheck(rules: readonly IssuerRule[], options: VerifierOptions): IssuerCheck | undefined {
  const [first] = rules;
  if (first === undefined || !rules.every((rule) => rule.keys === first.keys && sameMembers(rule.audiences, first.audiences))) {
    return undefined;
  }
  return { keys: first.keys, jose: joseOptions(rules.map((rule) => rule.issuer), first.audiences, options) };
}

function sameMembers(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value) => b.includes(value));
}

const PRINTABLE_KID = /^[\x21-\x7e]{1,128}$/;

/** The header's `kid` for a log line, if it is short and printable; never throws. */
function loggableKid(token: string): string | undefined {
  try {
    const kid = own(decodeProtectedHeader(token), 'kid');
    return typeof kid === 'string' && PRINTABLE_KID.test(kid) ? kid : undefined;
  } catch {
    return undefined;
  }
}

/** Cheap refusals before any decoding: size, and the five-part JWE or the opaque token. */
function precheck(token: string, maxLength: number): void {
  if (token.length > maxLength) throw new InvalidTokenError('token_too_large');
  let dots = 0;
  for (let i = token.indexOf('.'); i !== -1; i = token.indexOf('.', i + 1)) dots++;
  if (dots === 2) {
    // A compact JWS is canonical base64url without padding (RFC 7515 §2), header and payload
    // non-empty: refuse other spellings up front. One pass checks every character.
    const first = token.indexOf('.');
    if (first === 0 || token.charCodeAt(first + 1) === 0x2e || !hasCanonicalSegments(token)) {
      throw new InvalidTokenError('malformed_token');
    }
    return;
  }
  if (dots === 0) throw new InvalidTokenError('not_a_jwt');
  if (dots === 4) throw new InvalidTokenError('encrypted_token');
  throw new InvalidTokenError('malformed_token');
}

/** The last NumericDate accepted: 9999-12-31T23:59:59Z. Later ones, Infinity (`1e400`) included, are no date. */
const LAST_NUMERIC_DATE = 253_402_300_799;

/** True when `exp`, `nbf` and `iat`, where present, are numbers from 0 (1970) to LAST_NUMERIC_DATE. */
function numericDatesInRange(claims: object): boolean {
  for (const name of ['exp', 'nbf', 'iat']) {
    const value = own(claims, name);
    if (value !== undefined && !(typeof value === 'number' && value >= 0 && value <= LAST_NUMERIC_DATE)) return false;
  }
  return true;
}

/** Maps a jose error to our reason, by its stable code and the claim it names. */
function joseReason(error: unknown): RefusalReason | undefined {
  const { code, claim, reason } = (error ?? {}) as { code?: string; claim?: string; reason?: string };
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return claim === 'iat' ? 'token_too_old' : 'token_expired';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      if (reason === 'missing') return claim === 'exp' ? 'missing_expiry' : 'missing_claim';
      if (reason === 'invalid') return 'invalid_claim';
      switch (claim) {
        case 'iss': return 'unexpected_issuer';
        case 'aud': return 'unexpected_audience';
        case 'nbf': return 'token_not_yet_valid';
        case 'iat': return 'issued_in_future';
        case 'typ': return 'unexpected_type';
        default: return 'invalid_claim';
      }
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return 'algorithm_not_allowed';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'bad_signature';
    case 'ERR_JWS_INVALID':
    case 'ERR_JWT_INVALID':
      return 'malformed_token';
    case 'ERR_JOSE_NOT_SUPPORTED':
      return 'unsupported_token';
    default:
      return undefined;
  }
}

/** A claim or header parameter of the token itself: an inherited property (a polluted prototype) is none. */
function own(object: object, name: string): unknown {
  return Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

/**
 * Cached verifications are shared between requests, so what a handler receives is frozen:
 * one request cannot change what the next one sees.
 */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

function toAuthInfo<C extends object>(
  token: string,
  header: JWTHeaderParameters,
  claims: Record<string, unknown>,
  scopeClaims: readonly string[],
): AuthInfo<C> {
  const sub = own(claims, 'sub');
  const subject = typeof sub === 'string' ? sub : undefined;
  return deepFreeze({
    token,
    header,
    claims: claims as C,
    scopes: grantedScopes(claims, scopeClaims),
    subject,
    clientId: firstString(own(claims, 'client_id'), own(claims, 'azp'), own(claims, 'unique_name'), sub),
    expiresAt: own(claims, 'exp') as number,
    source: 'jwt',
  });
}
