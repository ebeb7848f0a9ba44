/**
 * Asks the issuer whether tokens are active, within bounds a flood cannot break: answers cached
 * per token, one call per token at a time, a cap on calls in flight, a token bucket for tokens
 * never seen before, brief memory of refusals, and back-off while the endpoint fails.
 */
import type { ResolvedIntrospection } from '../config/options.js';
import { BearerError, IntrospectionUnavailableError, InvalidTokenError, type RefusalReason } from '../errors.js';
import { FetchFailure } from '../jwks/fetch.js';
import { backoffMs } from '../jwks/fetch-policy.js';
import { compileClaimRules, runClaimChecks, type ClaimRules } from '../jwt/claim-rules.js';
import { errorFacts, type BearerLogger } from '../log.js';
import type { AuthInfo } from '../types.js';
import { repeatsSecret } from '../client/token-endpoint.js';
import { acceptedAnswer, type AnswerIssuer } from './answer.js';
import { IntrospectionCache } from './cache.js';
import { introspect } from './client.js';
import type { IntrospectionEndpoint } from './endpoint.js';

export interface IntrospectorSettings {
  readonly introspection: ResolvedIntrospection;
  readonly clientSecret: string;
  readonly endpoint: IntrospectionEndpoint;
  readonly perIssuer: ReadonlyArray<Omit<AnswerIssuer, 'match' | 'checks'> & { readonly claims: readonly ClaimRules[] }>;
  readonly maxTokenLength: number;
  /** Entries of each cache (active answers, refusals). */
  readonly maxCached: number;
  /** As for the key fetch: time and size limits of a call, and the longest back-off, in seconds and bytes. */
  readonly timeout: number;
  readonly maxBytes: number;
  readonly cooldown: number;
  readonly allowInsecureHttp: boolean;
  /** Never a request's logger: the introspector outlives requests. */
  readonly logger: BearerLogger;
}

export interface IntrospectionStatus {
  /** The endpoint, once known. */
  readonly url: string | undefined;
  readonly calls: number;
  readonly inFlight: number;
  readonly consecutiveFailures: number;
  readonly lastFailure: string | undefined;
}

/** Shorter strings cannot hold the randomness of an access token: refused before any call. */
export const MIN_OPAQUE_LENGTH = 16;
/** RFC 6750 §2.1 b64token: what may follow `Bearer `. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** True for a compact JWS shape (exactly two dots). */
export function isJwsShaped(token: string): boolean {
  const first = token.indexOf('.');
  if (first === -1) return false;
  const second = token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

/**
 * True for two dots or more: a JWT, well-formed or not (a JWE has four), verified locally in
 * `tokens: 'any'` and refused there if malformed, never sent to introspection.
 */
export function isJwtShaped(token: string): boolean {
  const first = token.indexOf('.');
  return first !== -1 && token.indexOf('.', first + 1) !== -1;
}

/** HTTP statuses that speak of the call, not of the token: our credentials, a timeout, a rate limit. */
const CALL_FAILED = new Set([401, 403, 408, 429]);

export class Introspector {
  readonly #settings: IntrospectorSettings;
  readonly #issuers: readonly AnswerIssuer[];
  /** The function claim rules of each issuer that has some, run on every request. */
  readonly #checks = new Map<string, NonNullable<AnswerIssuer['checks']>>();
  readonly #cache: IntrospectionCache;
  /** Calls in flight, by the exact token. */
  readonly #inflight = new Map<string, Promise<AuthInfo<object>>>();
  /** Calls in flight, and those among them for tokens not seen before. */
  #active = 0;
  #activeNew = 0;
  /** At most this many calls in flight for new tokens: the rest stay free for refreshing known ones. */
  readonly #maxNew: number;
  /** The token bucket of calls for new tokens: `newTokensPerSecond` per second, as many at most. */
  #credits: number;
  #refilledAt: number;
  #calls = 0;
  #failures = 0;
  #nextAttemptAt = 0;
  #lastFailure: FetchFailure | undefined;
  #outageSince: number | undefined;

  constructor(settings: IntrospectorSettings) {
    this.#settings = settings;
    this.#issuers = settings.perIssuer.map(({ claims, ...issuer }) => ({ ...issuer, ...compileClaimRules(claims) }));
    for (const { issuer, checks } of this.#issuers) if (checks !== undefined) this.#checks.set(issuer, checks);
    this.#cache = new IntrospectionCache(settings.maxCached);
    const { maxConcurrent, newTokensPerSecond } = settings.introspection;
    this.#maxNew = maxConcurrent - Math.floor(maxConcurrent / 4);
    this.#credits = newTokensPerSecond;
    this.#refilledAt = Date.now();
  }

  /**
   * The AuthInfo of a token whose active answer is still relied on; synchronous, no call. Its
   * issuer's function claim rules run again, and throw claim_mismatch if they refuse it now.
   */
  cached(token: string, jws: boolean): AuthInfo<object> | undefined {
    const auth = this.#cache.fresh(token, jws, Date.now());
    return auth === undefined ? undefined : this.#admit(auth);
  }

  /**
   * Asks the endpoint (or an identical call in flight) whether `token` is active. Rejects with
   * InvalidTokenError (inactive, or an answer that does not fit the configuration) or
   * IntrospectionUnavailableError (limits reached, endpoint failing).
   */
  async check(token: string, jws: boolean): Promise<AuthInfo<object>> {
    // Synchronous up to the call: concurrent requests for one token find its call in flight.
    const now = Date.now();
    checkShape(token, this.#settings.maxTokenLength);
    const fresh = this.#cache.fresh(token, jws, now);
    if (fresh !== undefined) return this.#admit(fresh);
    const refused = this.#cache.refused(token, jws, now);
    if (refused !== undefined) throw new InvalidTokenError(refused);
    const inflight = this.#inflight.get(token);
    // Function rules run for each caller, as on a cache hit.
    if (inflight !== undefined) return inflight.then(this.#admit);
    const known = this.#cache.known(token, jws, now);
    this.#allow(known, now);
    this.#active++;
    if (!known) this.#activeNew++;
    const pending = this.#call(token, jws).finally(() => {
      this.#active--;
      if (!known) this.#activeNew--;
      this.#inflight.delete(token);
    });
    this.#inflight.set(token, pending);
    return pending.then(this.#admit);
  }

  /** The token's AuthInfo once its issuer's function claim rules accept it now. */
  readonly #admit = (auth: AuthInfo<object>): AuthInfo<object> => {
    const checks = this.#checks.get(auth.issuer);
    if (checks !== undefined) runClaimChecks(checks, auth.claims, auth.header, this.#settings.logger, { subject: auth.subject });
    return auth;
  };

  /** The last answer held for the token (its members, or `{ active: false }`), withheld as below, for explanations. */
  answerOf(token: string): Readonly<Record<string, unknown>> | undefined {
    const answer = this.#cache.answer(token, isJwsShaped(token), Date.now());
    return answer === undefined ? undefined : this.withheld(answer);
  }

  /** An answer's members with those repeating the client secret (an endpoint might echo it) withheld, never shown in part. */
  withheld(answer: Readonly<Record<string, unknown>>): Record<string, unknown> {
    const { clientSecret } = this.#settings;
    const shown: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(answer)) {
      shown[name] = repeatsSecret(`${name} ${JSON.stringify(value)}`, clientSecret)
        ? '(withheld: it repeats the client secret)'
        : value;
    }
    return shown;
  }

  status(): IntrospectionStatus {
    return {
      url: this.#settings.endpoint.known,
      calls: this.#calls,
      inFlight: this.#active,
      consecutiveFailures: this.#failures,
      lastFailure: this.#lastFailure?.message,
    };
  }

  /** Throws the 503 when a call may not be made now; else the call is allowed. */
  #allow(known: boolean, now: number): void {
    if (now < this.#nextAttemptAt) {
      throw new IntrospectionUnavailableError('introspection_unavailable', (this.#nextAttemptAt - now) / 1000, {
        cause: this.#lastFailure,
      });
    }
    const { maxConcurrent, newTokensPerSecond } = this.#settings.introspection;
    if (this.#active >= maxConcurrent) throw new IntrospectionUnavailableError('introspection_busy', 1);
    if (known) return;
    if (this.#activeNew >= this.#maxNew) throw new IntrospectionUnavailableError('introspection_busy', 1);
    // A clock set back refills nothing.
    const elapsed = Math.max(0, now - this.#refilledAt) / 1000;
    this.#credits = Math.min(newTokensPerSecond, this.#credits + elapsed * newTokensPerSecond);
    this.#refilledAt = now;
    if (this.#credits < 1)
      throw new IntrospectionUnavailableError('introspection_busy', (1 - this.#credits) / newTokensPerSecond);
    this.#credits--;
  }

  async #call(token: string, jws: boolean): Promise<AuthInfo<object>> {
    const { introspection, clientSecret, endpoint, logger } = this.#settings;
    const url = await endpoint.url();
    const started = Date.now();
    this.#calls++;
    let answer;
    try {
      answer = await introspect(token, {
        url,
        clientId: introspection.clientId,
        clientSecret,
        timeoutMs: this.#settings.timeout * 1000,
        maxBytes: this.#settings.maxBytes,
        allowInsecureHttp: this.#settings.allowInsecureHttp,
      });
    } catch (error) {
      if (error instanceof FetchFailure && error.kind === 'http_status' && isTokenRefusal(error.status)) {
        // The endpoint answered about this token (400 for a token it cannot parse, 413 for a huge
        // one): a refusal of the token, remembered as such, and no sign of an outage.
        logger.debug({ url, status: error.status, ms: Date.now() - started }, 'introspection refused the token');
        this.#refuse(token, jws, 'token_inactive', Date.now());
        throw new InvalidTokenError('token_inactive');
      }
      throw this.#failed(error, url, started);
    }
    const now = Date.now();
    if (this.#outageSince !== undefined) {
      logger.warn({ url, outageMs: now - this.#outageSince, failedCalls: this.#failures }, 'token introspection recovered');
    }
    this.#failures = 0;
    this.#lastFailure = undefined;
    this.#outageSince = undefined;
    logger.debug({ url, ms: now - started, active: answer.active }, 'token introspected');
    if (!answer.active) {
      this.#refuse(token, jws, 'token_inactive', now);
      throw new InvalidTokenError('token_inactive');
    }
    let accepted;
    try {
      accepted = acceptedAnswer(token, answer.members, { perIssuer: this.#issuers, cacheTtl: introspection.cacheTtl }, now);
    } catch (error) {
      if (error instanceof InvalidTokenError) this.#refuse(token, jws, error.reason, now, Object.freeze({ ...answer.members }));
      throw error;
    }
    const knownUntilMs = accepted.expiresAtMs ?? Number.POSITIVE_INFINITY;
    this.#cache.accept(token, jws, {
      auth: accepted.auth,
      answer: accepted.auth.claims as Readonly<Record<string, unknown>>,
      freshUntilMs: Math.min(now + introspection.cacheTtl * 1000, knownUntilMs),
      knownUntilMs,
    });
    return accepted.auth;
  }

  /** Remembers a refusal for `negativeCacheTtl`. */
  #refuse(token: string, jws: boolean, reason: RefusalReason, now: number, answer?: Readonly<Record<string, unknown>>): void {
    const { negativeCacheTtl } = this.#settings.introspection;
    this.#cache.refuse(token, jws, reason, negativeCacheTtl > 0 ? now + negativeCacheTtl * 1000 : 0, answer);
  }

  /** A failed call: counted, logged, backed off, and the 503 for the request. */
  #failed(error: unknown, url: string, started: number): BearerError {
    if (!(error instanceof FetchFailure))
      this.#settings.logger.warn(errorFacts(error), 'unexpected error while introspecting a token');
    const failure = error instanceof FetchFailure ? error : new FetchFailure('invalid_document', 'unexpected failure');
    const now = Date.now();
    this.#failures++;
    this.#lastFailure = failure;
    this.#outageSince ??= started;
    const backoff = backoffMs(this.#failures, this.#settings.cooldown);
    this.#nextAttemptAt = now + backoff;
    const refusedClient = failure.status === 401 || failure.status === 403;
    this.#settings.logger.error(
      {
        url,
        reason: failure.kind,
        status: failure.status,
        problem: failure.message,
        ms: now - started,
        failures: this.#failures,
        retryInMs: backoff,
        ...(refusedClient ? { hint: 'the endpoint refused the client: check introspection.clientId and clientSecret' } : {}),
      },
      'token introspection failed',
    );
    return new IntrospectionUnavailableError('introspection_unavailable', backoff / 1000, { cause: failure });
  }
}

/** A 4xx about the token itself, not about the call. */
const isTokenRefusal = (status: number | undefined): boolean =>
  status !== undefined && status >= 400 && status < 500 && !CALL_FAILED.has(status);

/**
 * Cheap refusals before any call: strings no issuer would issue as a token. Too long or too short
 * is a bad token (401); characters outside RFC 6750's alphabet make a malformed request (400,
 * decided by the pipeline).
 */
function checkShape(token: string, maxLength: number): void {
  if (token.length > maxLength) throw new InvalidTokenError('token_too_large');
  if (token.length < MIN_OPAQUE_LENGTH || !B64TOKEN.test(token)) throw new InvalidTokenError('malformed_token');
}
