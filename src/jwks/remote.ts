/**
 * The signing keys behind one JWKS URL, kept fresh without making requests wait: one fetch at a
 * time, refresh ahead of expiry, a cooldown on unknown key ids, and stale-if-error on outages.
 */
import { LRUCache } from 'lru-cache';
import { InvalidTokenError, KeysFetchError, type KeysUnavailableError } from '../errors.js';
import type { BearerLogger } from '../log.js';
import { fetchJson, FetchFailure } from './fetch.js';
import { backoffMs, fetchLimits, keysUnavailable, type RemoteSettings } from './fetch-policy.js';
import { KeySet, type PublicKeyEntry } from './key-set.js';

/**
 * Where the signing keys of an issuer's tokens come from, as the verifier is handed it: a JWKS URL
 * (RemoteKeySet), one found through discovery (DiscoveredKeySet), or any other implementation.
 */
export interface KeySource {
  /** The key set usable now without waiting (see RemoteKeySet.usableSet), if any. */
  usableSet(now: number): KeySet | undefined;
  /** The key for a token header. Throws InvalidTokenError or KeysUnavailableError. */
  getKey(kid: unknown, alg: string): Promise<PublicKeyEntry>;
  /** Fetches the keys now unless a fresh set is held. Throws KeysFetchError. */
  ready(): Promise<void>;
  status(): KeySourceStatus;
}

export interface KeySourceStatus {
  readonly url: string | undefined;
  /** True while a key set is held that may be used (fresh, or stale within stale-if-error). */
  readonly usable: boolean;
  readonly kids: readonly string[];
  /** Age of the held key set in seconds. */
  readonly age: number | undefined;
  readonly fetches: number;
  readonly consecutiveFailures: number;
  readonly lastFailure: string | undefined;
}

/** Past this fraction of its lifetime a key set is refreshed in the background. */
const REFRESH_AHEAD = 0.8;

export class RemoteKeySet implements KeySource {
  readonly url: string;
  readonly #settings: RemoteSettings;
  readonly #logger: BearerLogger;
  #set: KeySet | undefined;
  #fetchedAt = 0;
  #ttlMs = 0;
  #inflight: Promise<KeySet | undefined> | undefined;
  #lastAttemptAt = Number.NEGATIVE_INFINITY;
  #lastFailure: FetchFailure | undefined;
  #failures = 0;
  #nextAttemptAt = 0;
  #outageSince: number | undefined;
  #fetches = 0;

  constructor(url: string, settings: RemoteSettings, logger: BearerLogger) {
    this.url = url;
    this.#settings = settings;
    this.#logger = logger;
  }

  /**
   * The key set a request may use right now without waiting: fresh, or stale during an outage
   * (stale-if-error). Starts a background refresh when one is due. Undefined: the caller must wait.
   */
  usableSet(now: number): KeySet | undefined {
    const set = this.#set;
    if (set === undefined) return undefined;
    const age = now - this.#fetchedAt;
    if (age < this.#ttlMs) {
      if (age >= this.#ttlMs * REFRESH_AHEAD && now >= this.#nextAttemptAt) void this.#refresh();
      return set;
    }
    if (this.#lastFailure && now < this.#staleUntil()) {
      // An outage is in progress: serve the last good set at once and retry in the background.
      if (now >= this.#nextAttemptAt) void this.#refresh();
      return set;
    }
    return undefined;
  }

  async getKey(kid: unknown, alg: string): Promise<PublicKeyEntry> {
    const now = Date.now();
    const set = this.usableSet(now) ?? (await this.#awaitKeys(now));
    let found = set.select(kid, alg);
    if (found === 'unknown_key') {
      // A new key id may mean a rotation: look again, at most once per cooldown.
      if (this.#inflight || now - this.#lastAttemptAt >= this.#settings.keyCache.cooldown * 1000) {
        const fresh = await this.#refresh();
        if (!fresh) throw this.#unavailable(Date.now());
        found = fresh.select(kid, alg);
      } else if (this.#lastFailure) {
        throw this.#unavailable(now);
      }
    }
    if (typeof found === 'string') throw new InvalidTokenError(found);
    return found;
  }

  /** Waits for a key set when none is usable: the first one, or a refresh after an idle spell. */
  async #awaitKeys(now: number): Promise<KeySet> {
    if (this.#inflight || now >= this.#nextAttemptAt) {
      const fresh = await this.#refresh();
      if (fresh) return fresh;
      // The refresh just failed: the last good set may still serve (stale-if-error).
      const stale = this.usableSet(Date.now());
      if (stale) return stale;
    }
    throw this.#unavailable(Date.now());
  }

  #unavailable(now: number): KeysUnavailableError {
    return keysUnavailable(this.#nextAttemptAt, now, this.#lastFailure);
  }

  /** Until when the held key set may serve while refreshes fail (stale-if-error), in ms. */
  #staleUntil(): number {
    return this.#fetchedAt + this.#ttlMs + this.#settings.keyCache.staleIfError * 1000;
  }

  /** One fetch at a time: concurrent callers share it. Resolves with the new set, or undefined. */
  #refresh(): Promise<KeySet | undefined> {
    this.#inflight ??= this.#fetch().finally(() => {
      this.#inflight = undefined;
    });
    return this.#inflight;
  }

  async #fetch(): Promise<KeySet | undefined> {
    const { keyCache, algorithms } = this.#settings;
    const started = Date.now();
    this.#lastAttemptAt = started;
    this.#fetches++;
    try {
      const { body, maxAge } = await fetchJson(this.url, fetchLimits(this.#settings));
      const parsed = KeySet.parse(body, algorithms);
      if (!parsed.ok) throw new FetchFailure('invalid_document', parsed.problem);
      const { set, skipped } = parsed;
      const now = Date.now();
      // Cache-Control may shorten the lifetime, never below the cooldown (or 1 s).
      const lifetime = Math.min(keyCache.maxAge, Math.max(maxAge ?? keyCache.maxAge, keyCache.cooldown, 1));
      this.#set = set;
      this.#fetchedAt = now;
      this.#ttlMs = lifetime * 1000;
      if (this.#outageSince !== undefined) {
        this.#logger.warn(
          { url: this.url, outageMs: now - this.#outageSince, failedFetches: this.#failures, kids: set.kids },
          'signing keys recovered',
        );
      }
      this.#logger.debug(
        { url: this.url, ms: now - started, keys: set.size, kids: set.kids, skipped, lifetime },
        'signing keys fetched',
      );
      this.#failures = 0;
      this.#lastFailure = undefined;
      this.#nextAttemptAt = 0;
      this.#outageSince = undefined;
      return set;
    } catch (error) {
      const failure = error instanceof FetchFailure ? error : new FetchFailure('invalid_document', 'unreadable key set');
      const now = Date.now();
      this.#failures++;
      this.#lastFailure = failure;
      this.#outageSince ??= started;
      const backoff = backoffMs(this.#failures, keyCache.cooldown);
      this.#nextAttemptAt = now + backoff;
      const stale = this.#set !== undefined && now < this.#staleUntil();
      this.#logger.error(
        {
          url: this.url,
          reason: failure.kind,
          status: failure.status,
          ms: now - started,
          failures: this.#failures,
          retryInMs: backoff,
          servingStaleKeys: stale,
        },
        'signing keys fetch failed',
      );
      return undefined;
    }
  }

  async ready(): Promise<void> {
    const now = Date.now();
    if (this.#set && now - this.#fetchedAt < this.#ttlMs) return;
    const set = await this.#refresh();
    if (!set) {
      throw new KeysFetchError(this.url, this.#lastFailure?.message ?? 'unknown failure', { cause: this.#lastFailure });
    }
  }

  status(): KeySourceStatus {
    const now = Date.now();
    const held = this.#set;
    return {
      url: this.url,
      usable: held !== undefined && now < this.#staleUntil(),
      kids: held ? held.kids : [],
      age: held ? (now - this.#fetchedAt) / 1000 : undefined,
      fetches: this.#fetches,
      consecutiveFailures: this.#failures,
      lastFailure: this.#lastFailure?.message,
    };
  }
}

/**
 * Key sets of the process, one per JWKS URL and settings, shared by every instance built with
 * them, so that middleware created per route (or per request, by mistake) reuses one cache and
 * one fetch schedule. A key set logs through the logger of the verifier that created it, which is
 * never a request's logger (see verifierFor in create-bearer-auth.ts): that one would write every later fetch
 * failure with its request's headers.
 */
const registry = new LRUCache<string, RemoteKeySet>({ max: 256 });

export function remoteKeySet(url: string, settings: RemoteSettings, logger: BearerLogger): RemoteKeySet {
  const id = JSON.stringify([url, settings.algorithms, settings.keyCache, settings.allowInsecureHttp]);
  let source = registry.get(id);
  if (!source) {
    source = new RemoteKeySet(url, settings, logger);
    registry.set(id, source);
  }
  return source;
}
