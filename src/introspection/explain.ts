/**
 * What `auth.explain()` says about introspection: which tokens the issuer is asked about, in what
 * order the checks of such a token run, and what each one found. Never the token or the secret.
 */
import type { TokenKinds } from '../config/options.js';
import type { RefusalReason } from '../errors.js';
import { isJwtShaped, MIN_OPAQUE_LENGTH, type Introspector } from './introspector.js';

/** The checks of a token known by introspection alone, in the order they run. */
export const INTROSPECTED_CHECKS = [
  'syntax',
  'structure',
  'introspection',
  'issuer',
  'audience',
  'expiry',
  'age',
  'claim_rules',
  'scopes',
] as const;

/** True when the token is checked by introspection alone (no local verification). */
export function introspectedOnly(tokens: TokenKinds, token: string): boolean {
  return tokens === 'opaque' || (tokens === 'any' && !isJwtShaped(token));
}

type Details = {
  readonly found?: string | undefined;
  readonly expected?: string | undefined;
  readonly hint?: string | undefined;
};

/** The `introspection` check's details (and `structure`'s, for a token introspected alone). */
export function introspectionDetails(
  introspector: Introspector,
  token: string,
  only: boolean,
  maxTokenLength: number,
  reason: RefusalReason | undefined,
): { introspection: Details; structure?: Details } {
  const answer = introspector.answerOf(token);
  const status = introspector.status();
  const active = answer === undefined ? undefined : answer.active === true;
  const introspection: Details = {
    found: active === undefined ? undefined : active ? 'active' : 'inactive',
    expected: `active, at ${status.url ?? "the issuer's discovered introspection endpoint"}`,
    hint: introspectionHint(reason, status.lastFailure),
  };
  if (!only) return { introspection };
  const length = token.length;
  return {
    introspection,
    structure: {
      found: `${length} characters`,
      expected: `a token of ${MIN_OPAQUE_LENGTH} to ${maxTokenLength} characters`,
    },
  };
}

function introspectionHint(reason: RefusalReason | undefined, lastFailure: string | undefined): string | undefined {
  switch (reason) {
    case 'token_inactive':
      return 'the issuer says the token is not active: revoked, expired, or its service user disabled';
    case 'introspection_unavailable':
      return lastFailure === undefined
        ? 'the introspection endpoint cannot be reached'
        : `the introspection endpoint fails: ${lastFailure}`;
    case 'introspection_busy':
      return 'the bounds on introspection calls are reached (introspection.maxConcurrent, introspection.newTokensPerSecond)';
    default:
      return undefined;
  }
}
