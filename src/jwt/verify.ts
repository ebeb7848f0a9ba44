/**
 * The framework-free core: a token string in, a verified AuthInfo out (or a BearerError).
 * `jose` checks the signature and claims; we choose the key and turn its errors into reasons.
 */
import {
  decodeJwt,
  decodeProtectedHeader,
  jwtVerify,
  type CryptoKey,
  type JWTHeaderParameters,
  type JWTVerifyOptions,
} from 'jose';
import type { Algorithm } from '../config/options.js';
import { BearerError, InvalidTokenError, KeysUnavailableError, type RefusalReason } from '../errors.js';
import { PublicKeyEntry } from '../jwks/key-set.js';
import type { KeySource, KeySourceStatus } from '../jwks/remote.js';
import { errorFacts, type BearerLogger } from '../log.js';
import { namesResource } from './audience.js';
import { compactHasDuplicateNames, hasCanonicalSegments } from './compact.js';
import { grantedScopes } from '../scopes.js';
import type { AuthInfo, Claims } from '../types.js';
import {
  checkClaimValues,
  compileClaimRules,
  runClaimChecks,
  type ClaimCheck,
  type ClaimRules,
  type CompiledClaimRules,
} from './claim-rules.js';
import { keyOf, VerifiedTokenCache, type CachedVerification, type KeyUse } from './token-cache.js';
import { deepFreeze, firstString, own } from '../members.js';

/** RFC 9068 §2.2: claims a JWT access token must carry in the strict profile. */
const RFC9068_CLAIMS = ['iss', 'exp', 'aud', 'sub', 'client_id', 'iat', 'jti'];

/**
 * One accepted issuer: its exact `iss`, the audiences its tokens may name, where its keys come
 * from, and what else its tokens are held to. Settings left out are the verifier's.
 */
export interface IssuerRule {
  readonly issuer: string;
  readonly audiences: readonly string[];
  /** `resource`: `aud` names one of `audiences` as a resource URI (jwt/audience.ts). Default `exact`. */
  readonly audienceComparison?: 'exact' | 'resource' | undefined;
  readonly keys: KeySource;
  readonly algorithms?: readonly Algorithm[] | undefined;
  readonly clockTolerance?: number | undefined;
  readonly maxTokenAge?: number | undefined;
  readonly scopeClaims?: readonly string[] | undefined;
  /** Claim rules, all of which must pass. */
  readonly claims?: readonly ClaimRules[] | undefined;
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

/**
 * Everything a token of one issuer is checked with, chosen by its `iss`. A cached verification is
 * bound to the one that admitted it, whose function rules a cache hit runs again.
 */
interface IssuerCheck extends CompiledClaimRules {
  readonly issuer: string;
  readonly keys: KeySource;
  readonly jose: JWTVerifyOptions;
  readonly clockTolerance: number;
  readonly maxTokenAge: number | undefined;
  readonly scopeClaims: readonly string[];
  /** Resource URIs (canonical) `aud` must name, when jose's exact comparison is not the one. */
  readonly resources: readonly string[] | undefined;
}

export class TokenVerifier {
  readonly config: Readonly<VerifierOptions>;
  /** The check of every token when there is one issuer: `iss` need not be read first. */
  readonly #single: IssuerCheck | undefined;
  /**
   * Checks by exact issuer when there are several; a token's unverified `iss` picks one (an unknown
   * one costs no key fetch), and jose checks `iss` again.
   */
  readonly #byIssuer: ReadonlyMap<string, IssuerCheck>;
  readonly #cache: VerifiedTokenCache<IssuerCheck>;
  /** Checks in progress, by the token's tail (as in the cache), holding the exact token. */
  readonly #inflight = new Map<string, { readonly token: string; readonly pending: Promise<CachedVerification<IssuerCheck>> }>();

  constructor(options: VerifierOptions) {
    this.config = Object.freeze({ ...options, issuers: Object.freeze([...options.issuers]) });
    const rules = this.config.issuers;
    const byIssuer = new Map<string, IssuerCheck>();
    for (const rule of rules) {
      if (byIssuer.has(rule.issuer)) throw new TypeError(`TokenVerifier: issuer ${JSON.stringify(rule.issuer)} is listed twice`);
      byIssuer.set(rule.issuer, issuerCheck(rule, this.config));
    }
    this.#byIssuer = byIssuer;
    this.#single = byIssuer.size === 1 ? [...byIssuer.values()][0] : undefined;
    this.#cache = new VerifiedTokenCache(this.config.tokenCache.max);
  }

  /**
   * The verification of a token seen before, if it still holds: synchronous, no signature
   * check. Undefined means "verify it" (never "invalid"); its issuer's function rules run again,
   * and throw claim_mismatch if they refuse it now.
   */
  cached<C extends object = Claims>(token: string): AuthInfo<C> | undefined {
    const hit = this.#cache.get(token, Date.now());
    if (hit === undefined) return undefined;
    const { checks } = hit.rule;
    if (checks !== undefined) this.#runChecks(checks, hit.auth);
    return hit.auth as AuthInfo<C>;
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
    let pending: Promise<CachedVerification<IssuerCheck>>;
    if (inflight !== undefined && inflight.token === token) {
      pending = inflight.pending;
    } else {
      pending = this.#check(token);
      if (inflight === undefined) {
        this.#inflight.set(key, { token, pending });
        const forget = () => this.#inflight.delete(key);
        pending.then(forget, forget);
      }
    }
    // Function rules run for each caller, as on a cache hit.
    return pending.then(this.#admit) as Promise<AuthInfo<C>>;
  }

  readonly #admit = ({ auth, rule }: CachedVerification<IssuerCheck>): AuthInfo<object> => {
    if (rule.checks !== undefined) this.#runChecks(rule.checks, auth);
    return auth;
  };

  #runChecks(checks: readonly ClaimCheck[], auth: AuthInfo<object>): void {
    runClaimChecks(checks, auth.claims, auth.header, this.config.logger, { subject: auth.subject, kid: auth.header.kid });
  }

  /** Signature, then jose's checks and ours, under the token's issuer; into the cache if it passes. */
  async #check(token: string): Promise<CachedVerification<IssuerCheck>> {
    precheck(token, this.config.maxTokenLength);
    const check = this.#single ?? this.#checkFor(token);
    const { keys: source, jose, resources } = check;
    // The key that verifies the signature, kept for the cache: a refresh may replace it meanwhile.
    let use: KeyUse | undefined;
    const getKey = (header: JWTHeaderParameters): Promise<CryptoKey> => {
      const kid = own(header, 'kid');
      const alg = header.alg;
      const chosen = (entry: PublicKeyEntry): Promise<CryptoKey> => {
        use = { source, kid, alg, key: entry.key };
        return entry.cryptoKey(alg);
      };
      // The usual case, decided at once: a usable key set holds the key. Anything else (no keys
      // yet, an unknown kid that may mean a rotation, a refusal) takes the source's full path.
      const found = source.usableSet(Date.now())?.select(kid, alg);
      return found instanceof PublicKeyEntry ? chosen(found) : source.getKey(kid, alg).then(chosen);
    };
    let payload: Record<string, unknown>;
    let header: JWTHeaderParameters;
    try {
      ({ payload, protectedHeader: header } = await jwtVerify(token, getKey, jose));
      if (resources !== undefined) checkResourceAudience(own(payload, 'aud'), resources);
      if (compactHasDuplicateNames(token, header, payload)) throw new InvalidTokenError('malformed_token');
      if (!numericDatesInRange(payload)) throw new InvalidTokenError('invalid_claim');
      // jose compares the `typ` it reads, which may be inherited from a polluted prototype.
      if (this.config.strict && !Object.hasOwn(header, 'typ')) throw new InvalidTokenError('unexpected_type');
    } catch (error) {
      throw this.#refusal(error, token);
    }
    const now = Date.now();
    const iat = own(payload, 'iat');
    const exp = own(payload, 'exp') as number;
    if (typeof iat === 'number' && iat > now / 1000 + check.clockTolerance) {
      throw new InvalidTokenError('issued_in_future');
    }
    // Pure over the frozen claims: checked once, remembered with the cached verification.
    if (check.match.length > 0) checkClaimValues(check, payload, { subject: loggableSubject(payload), kid: loggableKid(token) });
    const auth = toAuthInfo<object>(token, header, payload, check.scopeClaims, check.issuer);
    const { maxTokenAge } = check;
    const expiresAtMs = maxTokenAge === undefined ? exp * 1000 : Math.min(exp, (iat as number) + maxTokenAge) * 1000;
    this.#cache.add(token, auth, check, use!, expiresAtMs, now);
    return { auth, rule: check };
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
    const subject = signed ? loggableSubject(claims) : undefined;
    return new InvalidTokenError(reason ?? 'malformed_token', { subject, kid });
  }
}

/** The checks of an issuer's tokens: its own settings, else the verifier's. */
function issuerCheck(rule: IssuerRule, options: VerifierOptions): IssuerCheck {
  const clockTolerance = rule.clockTolerance ?? options.clockTolerance;
  const maxTokenAge = rule.maxTokenAge ?? options.maxTokenAge;
  // jose compares audiences exactly; resource URIs are compared by checkResourceAudience instead.
  const resources = rule.audienceComparison === 'resource' ? rule.audiences : undefined;
  return Object.freeze({
    issuer: rule.issuer,
    keys: rule.keys,
    jose: Object.freeze({
      algorithms: [...(rule.algorithms ?? options.algorithms)],
      issuer: rule.issuer,
      ...(resources === undefined ? { audience: [...rule.audiences] } : {}),
      clockTolerance,
      requiredClaims: options.strict ? RFC9068_CLAIMS : ['exp'],
      ...(maxTokenAge !== undefined ? { maxTokenAge } : {}),
      ...(options.strict ? { typ: 'at+jwt' } : {}),
    }),
    clockTolerance,
    maxTokenAge,
    scopeClaims: rule.scopeClaims ?? options.scopeClaims,
    resources,
    ...compileClaimRules(rule.claims ?? []),
  });
}

/** A resource URI (or none) among the token's `aud`, else the refusal jose would give. */
function checkResourceAudience(aud: unknown, resources: readonly string[]): void {
  if (aud === undefined) throw new InvalidTokenError('missing_claim');
  if (!resources.some((resource) => namesResource(aud, resource))) throw new InvalidTokenError('unexpected_audience');
}

const PRINTABLE_KID = /^[\x21-\x7e]{1,128}$/;

/** A verified token's `sub` for a log line, if it is a string of at most 128 characters. */
function loggableSubject(claims: object): string | undefined {
  const sub = own(claims, 'sub');
  return typeof sub === 'string' && sub.length <= 128 ? sub : undefined;
}

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
        case 'iss':
          return 'unexpected_issuer';
        case 'aud':
          return 'unexpected_audience';
        case 'nbf':
          return 'token_not_yet_valid';
        case 'iat':
          return 'issued_in_future';
        case 'typ':
          return 'unexpected_type';
        default:
          return 'invalid_claim';
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

function toAuthInfo<C extends object>(
  token: string,
  header: JWTHeaderParameters,
  claims: Record<string, unknown>,
  scopeClaims: readonly string[],
  issuer: string,
): AuthInfo<C> {
  const sub = own(claims, 'sub');
  const subject = typeof sub === 'string' ? sub : undefined;
  return deepFreeze({
    token,
    header,
    claims: claims as C,
    scopes: grantedScopes(claims, scopeClaims),
    subject,
    clientId: firstString(own(claims, 'client_id'), own(claims, 'azp'), own(claims, 'unique_name'), sub) ?? '',
    expiresAt: own(claims, 'exp') as number,
    issuer,
    source: 'jwt',
  });
}
