/**
 * An active introspection answer (RFC 7662 §2.2) checked as a JWT's claims would be (`exp`, and
 * `iss` and `aud` where present) and turned into the AuthInfo a handler reads.
 */
import { InvalidTokenError } from '../errors.js';
import type { AuthInfo, TokenHeader } from '../types.js';

export interface AnswerRules {
  readonly issuers: readonly string[];
  readonly audiences: readonly string[];
  /** Leeway for `exp`, in seconds. */
  readonly clockTolerance: number;
  /** How long an active answer is relied on, in seconds. */
  readonly cacheTtl: number;
}

export interface AcceptedAnswer {
  readonly auth: AuthInfo<object>;
  /** `exp` in ms, when the answer has one. */
  readonly expiresAtMs: number | undefined;
}

/** The last NumericDate accepted, as for JWTs: 9999-12-31T23:59:59Z. */
const LAST_NUMERIC_DATE = 253_402_300_799;

/** An opaque token has no header: every AuthInfo of one shares this one. */
const NO_HEADER: TokenHeader = Object.freeze({});

/** The accepted token's AuthInfo; throws InvalidTokenError for an answer that does not fit the config. */
export function acceptedAnswer(
  token: string,
  members: Readonly<Record<string, unknown>>,
  rules: AnswerRules,
  now: number,
): AcceptedAnswer {
  const sub = own(members, 'sub');
  const subject = typeof sub === 'string' ? sub : undefined;
  // `sub` comes from the issuer itself, so it may go to the log line of the refusal.
  const refuse = (reason: 'invalid_claim' | 'token_expired' | 'unexpected_issuer' | 'unexpected_audience') =>
    new InvalidTokenError(reason, { subject: subject !== undefined && subject.length <= 128 ? subject : undefined });

  const exp = own(members, 'exp');
  if (exp !== undefined && !(typeof exp === 'number' && exp >= 0 && exp <= LAST_NUMERIC_DATE)) throw refuse('invalid_claim');
  if (typeof exp === 'number' && exp <= now / 1000 - rules.clockTolerance) throw refuse('token_expired');
  const iss = own(members, 'iss');
  if (iss !== undefined && !(typeof iss === 'string' && rules.issuers.includes(iss))) throw refuse('unexpected_issuer');
  const aud = own(members, 'aud');
  if (aud !== undefined) {
    const named = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
    if (!named.some((value) => typeof value === 'string' && rules.audiences.includes(value))) throw refuse('unexpected_audience');
  }
  // RFC 7662 §2.2: `scope` is a space-separated string; anything else grants nothing.
  const scope = own(members, 'scope');
  const scopes = typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
  const expiresAt = typeof exp === 'number' ? exp : Math.floor(now / 1000 + rules.cacheTtl);
  const auth: AuthInfo<object> = {
    token,
    header: NO_HEADER,
    claims: deepFreeze({ ...members }),
    scopes: Object.freeze(scopes),
    subject,
    clientId: firstString(own(members, 'client_id'), own(members, 'username'), sub),
    expiresAt,
    source: 'introspection',
  };
  return { auth: Object.freeze(auth), expiresAtMs: typeof exp === 'number' ? exp * 1000 : undefined };
}

/** A member of the answer itself: an inherited property (a polluted prototype) is none. */
function own(object: Readonly<Record<string, unknown>>, name: string): unknown {
  return Object.hasOwn(object, name) ? object[name] : undefined;
}

function firstString(...values: unknown[]): string | undefined {
  for (const v of values) if (typeof v === 'string' && v !== '') return v;
  return undefined;
}

/** Answers are shared between requests through the cache: one request cannot change the next one's. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}
