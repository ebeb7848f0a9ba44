/**
 * Verified tokens by their exact string: a repeated token skips the signature check, but never
 * outlives its `exp` and is dropped as soon as its signing key leaves the published key set.
 */
import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { KeySet } from '../jwks/key-set.js';
import type { KeySource } from '../jwks/remote.js';
import type { AuthInfo } from '../types.js';

/** The key that verified a token, and the header values that selected it. */
export interface KeyUse {
  readonly source: KeySource;
  readonly kid: unknown;
  readonly alg: string;
  readonly key: KeyObject;
}

/** A cached verification: what it found, and the issuer's rules that admitted it. */
export interface CachedVerification<R> {
  readonly auth: AuthInfo<object>;
  /** The rules the token passed: a hit runs their per-request checks again. */
  readonly rule: R;
}

interface Entry<R> extends CachedVerification<R> {
  /** The exact token: the map key is only its tail, so a hit compares the whole string. */
  readonly token: string;
  /** When the entry stops counting: `exp` (and `iat + maxTokenAge`), in ms. */
  readonly expiresAtMs: number;
  readonly use: KeyUse;
  /** The key set last seen holding the key; compared by identity, rechecked when it changes. */
  set: KeySet;
}

/**
 * The map key is the token's last characters, which lie in its signature: hashing 40
 * pseudo-random characters instead of a whole JWT is most of the cost of a hit. A different
 * token with the same tail (an attacker cannot make one that verifies) is simply a miss.
 */
const KEY_LENGTH = 40;
export const keyOf = (token: string): string => (token.length > KEY_LENGTH ? token.slice(-KEY_LENGTH) : token);

/** FNV-1a over a short string: the doorkeeper's hash of a cache key. */
function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i++) h = Math.imul(h ^ key.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/**
 * Only successes are cached. Caching failures would let anyone fill the LRU with garbage and
 * push out real clients' entries, and it would not slow an attacker, who can vary the token.
 */
export class VerifiedTokenCache<R> {
  readonly #lru: LRUCache<string, Entry<R>> | undefined;
  /**
   * Admission on second sight: a token enters the cache the second time it verifies, so
   * one-shot tokens (a flood of fresh ones) cost no entry, no eviction of the steady clients'
   * entries, and no garbage. First sightings are remembered as 32-bit hashes in a fixed table:
   * no allocation; a collision only delays or hastens an admission, never a check.
   */
  readonly #doorkeeper: Uint32Array;
  readonly #mask: number;

  constructor(max: number) {
    this.#lru = max > 0 ? new LRUCache<string, Entry<R>>({ max }) : undefined;
    const slots = max > 0 ? 2 ** Math.min(20, Math.max(10, Math.ceil(Math.log2(max * 2)))) : 0;
    this.#doorkeeper = new Uint32Array(slots);
    this.#mask = slots - 1;
  }

  /** The cached verification of `token`, if it still holds at `now` (the entry itself: no allocation). */
  get(token: string, now: number): CachedVerification<R> | undefined {
    const lru = this.#lru;
    if (lru === undefined) return undefined;
    const key = keyOf(token);
    const entry = lru.get(key);
    if (entry === undefined || entry.token !== token) return undefined;
    if (now >= entry.expiresAtMs) {
      lru.delete(key);
      return undefined;
    }
    // The key set must be usable without waiting; if it is due for a blocking refresh, the
    // caller verifies the slow way, which waits for it (so a removed key is noticed).
    const { use } = entry;
    const set = use.source.usableSet(now);
    if (set === undefined) return undefined;
    if (set !== entry.set) {
      if (!set.stillHolds(use.kid, use.alg, use.key)) {
        lru.delete(key);
        return undefined;
      }
      entry.set = set;
    }
    return entry;
  }

  /** Remembers a verification that just succeeded with `use` under `rule`, if seen before. */
  add(token: string, auth: AuthInfo<object>, rule: R, use: KeyUse, expiresAtMs: number, now: number): void {
    const lru = this.#lru;
    if (lru === undefined || now >= expiresAtMs) return;
    const key = keyOf(token);
    const h = hash32(key);
    const slot = h & this.#mask;
    if (this.#doorkeeper[slot] !== h) {
      this.#doorkeeper[slot] = h;
      return;
    }
    // A refresh may have landed during the check and withdrawn the key that verified the token.
    const set = use.source.usableSet(now);
    if (set === undefined || !set.stillHolds(use.kid, use.alg, use.key)) return;
    lru.set(key, { token, auth, rule, expiresAtMs, use, set });
  }
}
