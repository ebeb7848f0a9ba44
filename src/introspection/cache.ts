/**
 * What introspection answered, by exact token: active answers (relied on until `cacheTtl` or
 * `exp`, and known until `exp`), and refusals, remembered briefly. Both bounded, LRU.
 */
import { LRUCache } from 'lru-cache';
import type { RefusalReason } from '../errors.js';
import type { AuthInfo } from '../types.js';

interface Known {
  /** The exact token: the map key may be only its tail, so a hit compares the whole string. */
  readonly token: string;
  readonly auth: AuthInfo<object>;
  /** The answer's members, for explanations. */
  readonly answer: Readonly<Record<string, unknown>>;
  /** Until when the answer is relied on without asking again, in ms. */
  readonly freshUntilMs: number;
  /** Until when the token counts as seen before (its `exp`): a new call for it is no new token. */
  readonly knownUntilMs: number;
}

interface Refused {
  readonly token: string;
  readonly reason: RefusalReason;
  readonly untilMs: number;
  /** The members of an active answer refused all the same (another audience, say), for explanations. */
  readonly answer: Readonly<Record<string, unknown>> | undefined;
}

/**
 * A JWS ends in its signature, so its last characters identify it and hashing them is cheaper than
 * hashing the whole token. An opaque token's format is unknown (its tail might be constant), so
 * it is its own key.
 */
const TAIL = 40;
const keyOf = (token: string, jws: boolean): string => (jws && token.length > TAIL ? token.slice(-TAIL) : token);

export class IntrospectionCache {
  readonly #known: LRUCache<string, Known> | undefined;
  /** Apart from the active answers, so that a flood of refused tokens cannot push them out. */
  readonly #refused: LRUCache<string, Refused> | undefined;

  /** `max` entries of each kind; 0 keeps nothing. */
  constructor(max: number) {
    this.#known = max > 0 ? new LRUCache<string, Known>({ max }) : undefined;
    this.#refused = max > 0 ? new LRUCache<string, Refused>({ max }) : undefined;
  }

  /** The accepted token's AuthInfo while its answer is relied on: the hot path, synchronous. */
  fresh(token: string, jws: boolean, now: number): AuthInfo<object> | undefined {
    const entry = this.#known?.get(keyOf(token, jws));
    return entry !== undefined && entry.token === token && now < entry.freshUntilMs ? entry.auth : undefined;
  }

  /** Whether the token was found active before and has not expired since. */
  known(token: string, jws: boolean, now: number): boolean {
    const entry = this.#known?.peek(keyOf(token, jws));
    return entry !== undefined && entry.token === token && now < entry.knownUntilMs;
  }

  /** Why the token was refused, while that is remembered. */
  refused(token: string, jws: boolean, now: number): RefusalReason | undefined {
    const entry = this.#refused?.get(keyOf(token, jws));
    return entry !== undefined && entry.token === token && now < entry.untilMs ? entry.reason : undefined;
  }

  /** The last answer for the token, if held: its members, or `{ active: false }`. */
  answer(token: string, jws: boolean, now: number): Readonly<Record<string, unknown>> | undefined {
    const key = keyOf(token, jws);
    const refused = this.#refused?.peek(key);
    if (refused !== undefined && refused.token === token && now < refused.untilMs) return refused.answer ?? { active: false };
    const known = this.#known?.peek(key);
    return known !== undefined && known.token === token ? known.answer : undefined;
  }

  accept(token: string, jws: boolean, entry: Omit<Known, 'token'>): void {
    const key = keyOf(token, jws);
    this.#known?.set(key, { token, ...entry });
    if (this.#refused?.peek(key)?.token === token) this.#refused.delete(key);
  }

  /** Forgets an active answer for the token, and remembers the refusal until `untilMs` (0: not at all). */
  refuse(token: string, jws: boolean, reason: RefusalReason, untilMs: number, answer?: Readonly<Record<string, unknown>>): void {
    const key = keyOf(token, jws);
    if (this.#known?.peek(key)?.token === token) this.#known.delete(key);
    if (untilMs > 0) this.#refused?.set(key, { token, reason, untilMs, answer });
  }
}
