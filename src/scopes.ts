/**
 * Scope requirements of a route and the scopes a token grants (RFC 6749 §3.3).
 * Requirements are compiled once; matching compares whole scope names, never substrings.
 */
import { ConfigError } from './errors.js';
import { kindOf, ownList, ownProperties } from './config/checks.js';
import { own } from './members.js';

/**
 * What a route requires:
 * - `'a'`: scope `a`;
 * - `['a', 'b']`: all of them;
 * - `{ allOf: ['a', 'b'] }`: all of them (the same, spelled out);
 * - `{ anyOf: ['a', 'b'] }`: at least one of them.
 */
export type ScopeRequirement =
  | string
  | readonly string[]
  | { readonly allOf: readonly string[]; readonly anyOf?: never }
  | { readonly anyOf: readonly string[]; readonly allOf?: never };

export interface CompiledRequirement {
  readonly mode: 'none' | 'all' | 'any';
  readonly scopes: readonly string[];
  /** The value of the `scope` attribute of an `insufficient_scope` challenge. */
  readonly challenge: string;
}

const NO_REQUIREMENT: CompiledRequirement = Object.freeze({
  mode: 'none',
  scopes: Object.freeze([]),
  challenge: '',
});

/** RFC 6749 §3.3 scope-token: printable ASCII except space, `"` and `\`. */
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;

/** Each entry a scope-token; returns them frozen, in order, without duplicates. Throws a ConfigError. */
export function checkScopes(list: readonly unknown[], option: string): readonly string[] {
  for (const scope of list) {
    if (typeof scope !== 'string' || !SCOPE_TOKEN.test(scope)) {
      throw new ConfigError(
        option,
        `has an invalid scope ${typeof scope === 'string' ? JSON.stringify(scope) : kindOf(scope)}: a scope is a non-empty string of printable ASCII without spaces, quotes or backslashes`,
      );
    }
  }
  return Object.freeze([...new Set(list as string[])]);
}

function checkScopeList(list: unknown, option: string): readonly string[] {
  if (!Array.isArray(list) || list.length === 0) {
    throw new ConfigError(option, 'must list at least one scope');
  }
  return checkScopes(list, option);
}

/** Validates a requirement as given by the user and freezes it. Throws a ConfigError. */
export function compileRequirement(required: unknown): CompiledRequirement {
  const option = 'scopes';
  if (required === undefined) return NO_REQUIREMENT;
  if (typeof required === 'string' || Array.isArray(required)) {
    const scopes = checkScopeList(typeof required === 'string' ? [required] : ownList(required), option);
    return Object.freeze({ mode: 'all', scopes, challenge: scopes.join(' ') });
  }
  if (typeof required === 'object' && required !== null) {
    const { allOf, anyOf, ...rest } = ownProperties(required);
    const unknown = Object.keys(rest);
    if (unknown.length > 0) {
      throw new ConfigError(option, `has unknown key "${unknown[0]}": use { allOf: [...] } or { anyOf: [...] }`);
    }
    if ((allOf === undefined) === (anyOf === undefined)) {
      throw new ConfigError(option, 'must have exactly one of allOf or anyOf');
    }
    const scopes = checkScopeList(allOf ?? anyOf, allOf !== undefined ? 'scopes.allOf' : 'scopes.anyOf');
    const mode = allOf !== undefined || scopes.length === 1 ? 'all' : 'any';
    return Object.freeze({ mode, scopes, challenge: scopes.join(' ') });
  }
  throw new ConfigError(
    option,
    `must be a scope string, an array of scopes (all of), or { anyOf: [...] }; got ${required === null ? 'null' : typeof required}`,
  );
}

/**
 * The scopes a token grants, from the first of `claimNames` that is present. A string is split
 * on spaces (the OAuth form, `scope`); an array contributes its string members (`scp`,
 * `permissions`). A claim of any other type grants nothing.
 */
export function grantedScopes(claims: Readonly<Record<string, unknown>>, claimNames: readonly string[]): string[] {
  for (const name of claimNames) {
    // Own claims only: a polluted Object.prototype must not grant scopes.
    const value = own(claims, name);
    if (value === undefined) continue;
    if (typeof value === 'string') return value.split(' ').filter((s) => s.length > 0);
    if (Array.isArray(value)) return value.filter((s): s is string => typeof s === 'string' && s.length > 0);
    return [];
  }
  return [];
}

/** True when `granted` satisfies the requirement. Whole names only. */
export function satisfies(granted: readonly string[], required: CompiledRequirement): boolean {
  const { scopes } = required;
  switch (required.mode) {
    case 'none':
      return true;
    case 'all':
      for (let i = 0; i < scopes.length; i++) if (!granted.includes(scopes[i]!)) return false;
      return true;
    case 'any':
      for (let i = 0; i < scopes.length; i++) if (granted.includes(scopes[i]!)) return true;
      return false;
  }
}
