/**
 * Asks the issuer whether tokens are active, within bounds a flood cannot break: answers cached
 * per token, one call per token at a time, a cap on calls in flight, a token bucket for tokens
 * never seen before, brief memory of refusals, and back-off while the endpoint fails.
 */
import type { ResolvedIntrospection } from '../config/options.js';
import { BearerError, IntrospectionUnavailableError, InvalidTokenError } from '../errors.js';
import { FetchFailure } from '../jwks/fetch.js';
import { backoffMs } from '../jwks/fetch-policy.js';
import { errorFacts, type BearerLogger } from '../log.js';
import type { AuthInfo } from '../types.js';
import { acceptedAnswer, type AnswerRules } from './answer.js';
import { IntrospectionCache } from './cache.js';
import { introspect } from './client.js';
import type { IntrospectionEndpoint } from './endpoint.js';

export interface IntrospectorSettings {
  readonly introspection: ResolvedIntrospection;
  readonly clientSecret: string;
  readonly endpoint: IntrospectionEndpoint;
  readonly perIssuer: AnswerRules['perIssuer'];
  readonly clockTolerance: number;
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

/** True for a compact JWS shape (exactly two dots): such a token is verified locally in `tokens: 'any'`. */
export function isJwsShaped(token: string): boolean {
  const first = token.indexOf('.');
  if (first === -1) return false;
  const second = token.indexOf('.', first + 1);
  return second !== -1 && token.indexOf('.', second + 1) === -1;
}

export class Introspector {
  readonly #settings: IntrospectorSettings;
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
    this.#cache = new IntrospectionCache(settings.maxCached);
    const { maxConcurrent, newTokensPerSecond } = settings.introspection;
    this.#maxNew = maxConcurrent - Math.floor(maxConcurrent / 4);
    this.#credits = newTokensPerSecond;
    this.#refilledAt = Date.now();
  }

  /** The AuthInfo of a token whose active answer is still relied on; synchronous, no call. */
  cached(token: string, jws: boolean): AuthInfo<object> | undefined {
    return this.#cache.fresh(token, jws, Date.now());
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
    if (fresh !== undefined) return fresh;
    const refused = this.#cache.refused(token, jws, now);
    if (refused !== undefined) throw new InvalidTokenError(refused);
    const inflight = this.#inflight.get(token);
    if (inflight !== undefined) return inflight;
    const known = this.#cache.known(token, jws, now);
    this.#admit(known, now);
    this.#active++;
    if (!known) this.#activeNew++;
    const pending = this.#call(token, jws).finally(() => {
      this.#active--;
      if (!known) this.#activeNew--;
      this.#inflight.delete(token);
    });
    this.#inflight.set(token, pending);
    return pending;
  }

  /** The last answer held for the token (its members, or `{ active: false }`), for explanations. */
  answerOf(token: string): Readonly<Record<string, unknown>> | undefined {
    return this.#cache.answer(token, isJwsShaped(token), Date.now());
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

  /** Throws the 503 when a call may not be made now; else the call is admitted. */
  #admit(known: boolean, now: number): void {
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
    const refusedUntil = introspection.negativeCacheTtl > 0 ? now + introspection.negativeCacheTtl * 1000 : 0;
    if (!answer.active) {
      this.#cache.refuse(token, jws, 'token_inactive', refusedUntil);
      throw new InvalidTokenError('token_inactive');
    }
    const rules = { ...this.#settings, cacheTtl: introspection.cacheTtl };
    let accepted;
    try {
      accepted = acceptedAnswer(token, answer.members, rules, now);
    } catch (error) {
      if (error instanceof InvalidTokenError)
        this.#cache.refuse(token, jws, error.reason, refusedUntil, Object.freeze({ ...answer.members }));
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

/**
 * Cheap refusals before any call: strings no issuer would issue as a token. Too long or too short
 * is a bad token (401); characters outside RFC 6750's alphabet make a malformed request (400,
 * decided by the pipeline).
 */
function checkShape(token: string, maxLength: number): void {
  if (token.length > maxLength) throw new InvalidTokenError('token_too_large');
  if (token.length < MIN_OPAQUE_LENGTH || !B64TOKEN.test(token)) throw new InvalidTokenError('malformed_token');
}
