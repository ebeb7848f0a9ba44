/**
 * Claim rules (the `claims` option): exact values a token's claims must have, or a function of the
 * verified claims and header. Object rules are pure over frozen claims, so their verdict is kept
 * with a cached verification; functions may read the time or state, so they run on every request.
 */
import { InvalidTokenError, type RefusalOptions } from '../errors.js';
import { kindOf } from '../config/checks.js';
import { errorFacts, type BearerLogger } from '../log.js';
import type { Claims, TokenHeader } from '../types.js';
import { own } from '../members.js';

/** A value an object rule accepts: claims of other types (arrays, objects, null) never match. */
export type ClaimValue = string | number | boolean;

/**
 * A rule as a function, called with the verified (frozen) claims and header on every request,
 * cache hits included. Returns `true` to accept; `false` or a short reason (logged, never sent)
 * to refuse. Must be synchronous and cheap; a throw refuses.
 */
export type ClaimCheck = (claims: Claims, header: TokenHeader) => boolean | string;

/**
 * `{ app_id: 'orders-api', tenant_type: ['prod', 'dr'] }`: each claim must be that value, or one of
 * the list (compared with `===`: `2` is not `'2'`). Or a ClaimCheck.
 */
export type ClaimRules = { readonly [claim: string]: ClaimValue | readonly ClaimValue[] } | ClaimCheck;

/** An issuer's rules ready to run: the object rules' claims, and the functions. */
export interface CompiledClaimRules {
  readonly match: ReadonlyArray<readonly [claim: string, accepted: readonly ClaimValue[]]>;
  /** Undefined when there is none, so that a cache hit tests one field. */
  readonly checks: readonly ClaimCheck[] | undefined;
}

export function compileClaimRules(rules: readonly ClaimRules[]): CompiledClaimRules {
  const match: Array<readonly [string, readonly ClaimValue[]]> = [];
  const checks: ClaimCheck[] = [];
  for (const rule of rules) {
    if (typeof rule === 'function') checks.push(rule);
    else
      for (const [claim, value] of Object.entries(rule))
        match.push([claim, Array.isArray(value) ? value : [value as ClaimValue]]);
  }
  return { match, checks: checks.length > 0 ? checks : undefined };
}

/** Longest reason of a function rule kept for the log. */
const MAX_DETAIL = 128;

/** The refusal of a failed rule: what failed goes to the log (`detail`), never to the client. */
function mismatch(detail: string, options: RefusalOptions): InvalidTokenError {
  return new InvalidTokenError('claim_mismatch', { ...options, detail });
}

/** Throws claim_mismatch unless every object rule holds; only own claims count. */
export function checkClaimValues(rules: CompiledClaimRules, claims: object, options: RefusalOptions): void {
  for (const [claim, accepted] of rules.match) {
    const value = own(claims, claim);
    if (!(accepted as readonly unknown[]).includes(value)) throw mismatch(`claim ${JSON.stringify(claim)} not accepted`, options);
  }
}

/** Throws claim_mismatch unless every function rule returns true. A throw or a promise refuses. */
export function runClaimChecks(
  checks: readonly ClaimCheck[],
  claims: object,
  header: object,
  logger: BearerLogger,
  options: RefusalOptions,
): void {
  for (const check of checks) {
    let verdict: unknown;
    try {
      verdict = check(claims as Claims, header as TokenHeader);
    } catch (error) {
      // The message may quote the claims: name and code only.
      logger.warn(errorFacts(error), 'claim rule threw; token refused');
      throw mismatch('claim rule threw', options);
    }
    if (verdict === true) continue;
    if (typeof (verdict as { then?: unknown } | null)?.then === 'function') {
      // Never awaited: its rejection must not go unhandled.
      Promise.resolve(verdict).catch(() => undefined);
      logger.warn({}, 'claim rule returned a promise (rules must be synchronous); token refused');
      throw mismatch('claim rule returned a promise', options);
    }
    throw mismatch(
      typeof verdict === 'string'
        ? verdict.slice(0, MAX_DETAIL)
        : `claim rule returned ${verdict === false ? 'false' : kindOf(verdict)}`,
      options,
    );
  }
}
