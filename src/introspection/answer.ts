/**
 * An active introspection answer (RFC 7662 §2.2) checked as a JWT's claims would be (`exp`, and
 * `iss` and `aud` where present) and turned into the AuthInfo a handler reads.
 */
import type { ResolvedIssuer } from '../config/options.js';
import { InvalidTokenError } from '../errors.js';
import { namesResource } from '../jwt/audience.js';
import type { AuthInfo, TokenHeader } from '../types.js';
import { deepFreeze, firstString, own } from '../members.js';

/** An issuer as an answer is held to it: its `iss`, and the audiences its tokens may name. */
export type AnswerIssuer = Pick<ResolvedIssuer, 'issuer' | 'audiences' | 'audienceComparison'>;

export interface AnswerRules {
  /** The configured issuers: an answer naming one is held to its audiences; one naming none, to any's. */
  readonly perIssuer: readonly AnswerIssuer[];
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
  const routed = typeof iss === 'string' ? rules.perIssuer.find((entry) => entry.issuer === iss) : undefined;
  if (iss !== undefined && routed === undefined) throw refuse('unexpected_issuer');
  const aud = own(members, 'aud');
  if (aud !== undefined && !(routed ? [routed] : rules.perIssuer).some((entry) => namesAudience(aud, entry))) {
    throw refuse('unexpected_audience');
  }
  // RFC 7662 §2.2: `scope` is a space-separated string; anything else grants nothing.
  const scope = own(members, 'scope');
  const scopes = typeof scope === 'string' ? scope.split(' ').filter((s) => s !== '') : [];
  const expiresAt = typeof exp === 'number' ? exp : Math.floor(now / 1000 + rules.cacheTtl);
  const auth: AuthInfo<object> = {
    token,
    header: NO_HEADER,
    claims: deepFreeze({ ...members }),
    scopes: Object.freeze(scopes) as string[],
    subject,
    clientId: firstString(own(members, 'client_id'), own(members, 'username'), sub) ?? '',
    expiresAt,
    // Without `iss` in the answer, the issuer is the configured one only when there is one.
    issuer: routed?.issuer ?? (rules.perIssuer.length === 1 ? rules.perIssuer[0]!.issuer : ''),
    source: 'introspection',
  };
  return { auth: Object.freeze(auth), expiresAtMs: typeof exp === 'number' ? exp * 1000 : undefined };
}

/** True when `aud` names one of the issuer's audiences, compared as its configuration says. */
function namesAudience(aud: unknown, { audiences, audienceComparison }: AnswerIssuer): boolean {
  if (audienceComparison === 'resource') return audiences.some((resource) => namesResource(aud, resource));
  const named: unknown[] = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return named.some((value) => typeof value === 'string' && audiences.includes(value));
}
