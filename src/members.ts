/**
 * Reading what a token says (claims, header parameters, an introspection answer): its own members
 * only, never a polluted prototype's, and frozen once accepted, since the cache shares it.
 */

/** A member of the object itself; an inherited property (a polluted `Object.prototype`) is none. */
export function own(object: object | undefined, name: string): unknown {
  return object !== undefined && Object.hasOwn(object, name) ? (object as Record<string, unknown>)[name] : undefined;
}

/** The first of `values` that is a non-empty string. */
export function firstString(...values: unknown[]): string | undefined {
  for (const value of values) if (typeof value === 'string' && value !== '') return value;
  return undefined;
}

/**
 * Verifications are shared between requests through the caches, so what a handler receives is
 * frozen all the way down: one request cannot change what the next one sees.
 */
export function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
