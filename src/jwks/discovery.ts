/**
 * Finds an issuer's JWKS URL from `${issuer}/.well-known/openid-configuration` (OpenID Connect
 * Discovery §4), checking that the document speaks for that exact issuer, then keeps its keys.
 */
import { checkUrl } from '../config/checks.js';
import { KeysFetchError } from '../errors.js';
import type { BearerLogger } from '../log.js';
import { fetchJson, FetchFailure } from './fetch.js';
import type { KeySet, PublicKeyEntry } from './key-set.js';
import { backoffMs, fetchLimits, keysUnavailable, type RemoteSettings } from './fetch-policy.js';
import { remoteKeySet, type KeySource, type KeySourceStatus, type RemoteKeySet } from './remote.js';

export function discoveryUrl(issuer: string): string {
  return `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
}

export class DiscoveredKeySet implements KeySource {
  readonly issuer: string;
  readonly #settings: RemoteSettings;
  readonly #logger: BearerLogger;
  #source: RemoteKeySet | undefined;
  #pending: Promise<RemoteKeySet | undefined> | undefined;
  #failures = 0;
  #nextAttemptAt = 0;
  #lastFailure: FetchFailure | undefined;

  constructor(issuer: string, settings: RemoteSettings, logger: BearerLogger) {
    this.issuer = issuer;
    this.#settings = settings;
    this.#logger = logger;
  }

  usableSet(now: number): KeySet | undefined {
    return this.#source?.usableSet(now);
  }

  async getKey(kid: unknown, alg: string): Promise<PublicKeyEntry> {
    const source = this.#source ?? (await this.#discover());
    if (!source) throw keysUnavailable(this.#nextAttemptAt, Date.now(), this.#lastFailure);
    return source.getKey(kid, alg);
  }

  async ready(): Promise<void> {
    const source = this.#source ?? (await this.#discover(true));
    if (!source) {
      throw new KeysFetchError(discoveryUrl(this.issuer), this.#lastFailure?.message ?? 'unknown failure', {
        cause: this.#lastFailure,
      });
    }
    await source.ready();
  }

  status(): KeySourceStatus {
    if (this.#source) return this.#source.status();
    return {
      url: undefined,
      usable: false,
      kids: [],
      age: undefined,
      fetches: 0,
      consecutiveFailures: this.#failures,
      lastFailure: this.#lastFailure?.message,
    };
  }

  #discover(force = false): Promise<RemoteKeySet | undefined> {
    if (!this.#pending && !force && Date.now() < this.#nextAttemptAt) return Promise.resolve(undefined);
    this.#pending ??= this.#fetchMetadata().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #fetchMetadata(): Promise<RemoteKeySet | undefined> {
    const url = discoveryUrl(this.issuer);
    const { keyCache, allowInsecureHttp } = this.#settings;
    const started = Date.now();
    try {
      const { body } = await fetchJson(url, fetchLimits(this.#settings));
      const metadata = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      if (metadata.issuer !== this.issuer) {
        throw new FetchFailure('invalid_document', 'discovery document names another issuer');
      }
      let jwksUri: string;
      try {
        jwksUri = checkUrl(metadata.jwks_uri, 'jwks_uri', undefined, allowInsecureHttp).href;
      } catch {
        throw new FetchFailure('invalid_document', 'discovery document has no usable jwks_uri');
      }
      this.#source = remoteKeySet(jwksUri, this.#settings, this.#logger);
      this.#failures = 0;
      this.#lastFailure = undefined;
      this.#logger.debug({ url, jwksUri, ms: Date.now() - started }, 'issuer metadata discovered');
      return this.#source;
    } catch (error) {
      const failure =
        error instanceof FetchFailure ? error : new FetchFailure('invalid_document', 'unreadable discovery document');
      this.#failures++;
      this.#lastFailure = failure;
      const backoff = backoffMs(this.#failures, keyCache.cooldown);
      this.#nextAttemptAt = Date.now() + backoff;
      this.#logger.error(
        {
          url,
          reason: failure.kind,
          status: failure.status,
          ms: Date.now() - started,
          failures: this.#failures,
          retryInMs: backoff,
        },
        'issuer discovery failed',
      );
      return undefined;
    }
  }
}
