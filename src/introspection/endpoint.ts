/**
 * Where introspection calls go: a URL known from the configuration, or the `introspection_endpoint`
 * of the issuer's discovery document, read once (with back-off while it cannot be read).
 */
import { checkUrl } from '../config/checks.js';
import { IntrospectionUnavailableError } from '../errors.js';
import { discoveryUrl } from '../jwks/discovery.js';
import { fetchJson, FetchFailure, type FetchLimits } from '../jwks/fetch.js';
import { backoffMs } from '../jwks/fetch-policy.js';
import type { BearerLogger } from '../log.js';

export interface IntrospectionEndpoint {
  /** The endpoint once known (for status and explanations). */
  readonly known: string | undefined;
  /** The endpoint; throws IntrospectionUnavailableError while it cannot be found. */
  url(): Promise<string>;
}

export function fixedEndpoint(url: string): IntrospectionEndpoint {
  const found = Promise.resolve(url);
  return { known: url, url: () => found };
}

/** The endpoint named by `issuer`'s discovery document, which must speak for that exact issuer. */
export class DiscoveredEndpoint implements IntrospectionEndpoint {
  readonly #issuer: string;
  readonly #limits: FetchLimits;
  readonly #cooldown: number;
  readonly #logger: BearerLogger;
  #url: string | undefined;
  #pending: Promise<string> | undefined;
  #failures = 0;
  #nextAttemptAt = 0;

  constructor(issuer: string, limits: FetchLimits, cooldownSeconds: number, logger: BearerLogger) {
    this.#issuer = issuer;
    this.#limits = limits;
    this.#cooldown = cooldownSeconds;
    this.#logger = logger;
  }

  get known(): string | undefined {
    return this.#url;
  }

  url(): Promise<string> {
    if (this.#url !== undefined) return Promise.resolve(this.#url);
    const now = Date.now();
    if (!this.#pending && now < this.#nextAttemptAt) {
      return Promise.reject(new IntrospectionUnavailableError('introspection_unavailable', (this.#nextAttemptAt - now) / 1000));
    }
    this.#pending ??= this.#discover().finally(() => {
      this.#pending = undefined;
    });
    return this.#pending;
  }

  async #discover(): Promise<string> {
    const url = discoveryUrl(this.#issuer);
    try {
      const { body } = await fetchJson(url, this.#limits);
      const metadata = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>;
      if (metadata.issuer !== this.#issuer) throw new FetchFailure('invalid_document', 'discovery document names another issuer');
      try {
        this.#url = checkUrl(
          metadata.introspection_endpoint,
          'introspection_endpoint',
          undefined,
          this.#limits.allowInsecureHttp,
        ).href;
      } catch {
        throw new FetchFailure('invalid_document', 'discovery document has no usable introspection_endpoint');
      }
      this.#failures = 0;
      this.#logger.debug({ url, introspectionEndpoint: this.#url }, 'introspection endpoint discovered');
      return this.#url;
    } catch (error) {
      const failure =
        error instanceof FetchFailure ? error : new FetchFailure('invalid_document', 'unreadable discovery document');
      this.#failures++;
      const backoff = backoffMs(this.#failures, this.#cooldown);
      this.#nextAttemptAt = Date.now() + backoff;
      this.#logger.error(
        {
          url,
          reason: failure.kind,
          status: failure.status,
          problem: failure.message,
          failures: this.#failures,
          retryInMs: backoff,
        },
        'introspection endpoint discovery failed',
      );
      throw new IntrospectionUnavailableError('introspection_unavailable', backoff / 1000, { cause: failure });
    }
  }
}
