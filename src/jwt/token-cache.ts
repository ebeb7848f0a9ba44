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
 * Which keys were seen once, for admission on second sight: a Bloom filter of at least 16 bits
 * per cache entry, three bits per key, cleared after one sighting per 16 bits so that it never
 * fills up (at most about 0.5 % false "seen"). Fixed size, no allocation per request. A false
 * "seen" only admits a token early; unlike a table of hashes, two keys never keep each other out.
 */
class Doorkeeper {
  readonly #bits: Int32Array;
  readonly #mask: number;
  readonly #resetAfter: number;
  #sightings = 0;

  constructor(max: number) {
    const bits = 2 ** Math.min(26, Math.max(13, Math.ceil(Math.log2(max * 16))));
    this.#bits = new Int32Array(bits / 32);
    this.#mask = bits - 1;
    this.#resetAfter = bits / 16;
  }

  /** True when `key` was seen since the last clearing; else remembers it. */
  seenBefore(key: string): boolean {
    const h = hash32(key);
    // Three probes by double hashing; an odd step visits distinct bits.
    const step = Math.imul(h ^ (h >>> 16), 0x85ebca6b) | 1;
    const bits = this.#bits;
    let seen = true;
    for (let i = 0, at = h; i < 3; i++, at = (at + step) | 0) {
      const bit = at & this.#mask;
      const word = bit >>> 5;
      const flag = 1 << (bit & 31);
      if ((bits[word]! & flag) === 0) {
        seen = false;
        bits[word]! |= flag;
      }
    }
    if (!seen && ++this.#sightings >= this.#resetAfter) {
      bits.fill(0);
      this.#sightings = 0;
    }
    return seen;
  }
}

/**
 * Only successes are cached. Caching failures would let anyone fill the LRU with garbage and
 * push out real clients' entries, and it would not slow an attacker, who can vary the token.
 */
export class VerifiedTokenCache<R> {
  readonly #lru: LRUCache<string, Entry<R>> | undefined;
  readonly #max: number;
  /**
   * Admission: a verified token enters at once while the cache has room (a new process, a new
   * client) or when the entry it would evict has lapsed. Only when it would push out a live
   * entry must it be seen twice, so that a flood of one-shot tokens costs the steady clients
   * nothing.
   */
  readonly #doorkeeper: Doorkeeper | undefined;

  constructor(max: number) {
    this.#max = max;
    this.#lru = max > 0 ? new LRUCache<string, Entry<R>>({ max }) : undefined;
    this.#doorkeeper = max > 0 ? new Doorkeeper(max) : undefined;
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

  /** Remembers a verification that just succeeded with `use` under `rule`, if admitted (see #doorkeeper). */
  add(token: string, auth: AuthInfo<object>, rule: R, use: KeyUse, expiresAtMs: number, now: number): void {
    const lru = this.#lru;
    if (lru === undefined || now >= expiresAtMs) return;
    const key = keyOf(token);
    if (lru.size >= this.#max && !this.#oldestLapsed(lru, now) && !this.#doorkeeper!.seenBefore(key)) return;
    // A refresh may have landed during the check and withdrawn the key that verified the token.
    const set = use.source.usableSet(now);
    if (set === undefined || !set.stillHolds(use.kid, use.alg, use.key)) return;
    lru.set(key, { token, auth, rule, expiresAtMs, use, set });
  }

  /** True when the entry a new one would evict no longer counts: evicting it costs nothing. */
  #oldestLapsed(lru: LRUCache<string, Entry<R>>, now: number): boolean {
    const oldest = lru.rkeys().next();
    if (oldest.done === true) return true;
    const entry = lru.peek(oldest.value);
    return entry === undefined || now >= entry.expiresAtMs;
  }
}
