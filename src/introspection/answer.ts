/**
 * An active introspection answer (RFC 7662 §2.2) checked as a JWT's claims would be (`exp`, `iat`
 * against `maxTokenAge`, `iss`, `aud`, `token_type`, the object claim rules) and turned into the
 * AuthInfo a handler reads.
 */
import type { ResolvedIssuer } from '../config/options.js';
import { InvalidTokenError } from '../errors.js';
import { namesResource } from '../jwt/audience.js';
import { checkClaimValues, type CompiledClaimRules } from '../jwt/claim-rules.js';
import type { AuthInfo, TokenHeader } from '../types.js';
import { deepFreeze, firstString, own } from '../members.js';

/** An issuer as an answer is held to it: its `iss`, audiences, leeway, maximum age and claim rules. */
export type AnswerIssuer = Pick<
  ResolvedIssuer,
  'issuer' | 'audiences' | 'audienceComparison' | 'clockTolerance' | 'maxTokenAge'
> &
  CompiledClaimRules;

export interface AnswerRules {
  /**
   * The configured issuers: an answer is held to the one its `iss` names. Without `iss` it is
   * accepted only when there is one issuer, and held to that one.
   */
  readonly perIssuer: readonly AnswerIssuer[];
  /** How long an active answer is relied on, in seconds. */
  readonly cacheTtl: number;
}

export interface AcceptedAnswer {
  readonly auth: AuthInfo<object>;
  /** Until when the answer may be relied on, in ms: `exp` (and `iat + maxTokenAge`), when it has them. */
  readonly expiresAtMs: number | undefined;
  /** The issuer's rules it passed: their functions run again on every request. */
  readonly rules: AnswerIssuer;
}

/** `token_type` values of an access token (RFC 6750, RFC 7662 §2.2, RFC 8693 §3); absent is accepted too. */
const ACCESS_TOKEN_TYPES: readonly unknown[] = [
  'Bearer',
  'bearer',
  'access_token',
  'urn:ietf:params:oauth:token-type:access_token',
];

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
  const loggable = subject !== undefined && subject.length <= 128 ? subject : undefined;
  const refuse = (
    reason:
      | 'invalid_claim'
      | 'missing_claim'
      | 'token_expired'
      | 'token_too_old'
      | 'unexpected_issuer'
      | 'unexpected_audience'
      | 'unexpected_type',
  ) => new InvalidTokenError(reason, { subject: loggable });

  const iss = own(members, 'iss');
  // With several issuers, only `iss` tells whose token it is (and so whose audience and rules hold).
  const routed =
    iss === undefined
      ? rules.perIssuer.length === 1
        ? rules.perIssuer[0]
        : undefined
      : typeof iss === 'string'
        ? rules.perIssuer.find((entry) => entry.issuer === iss)
        : undefined;
  if (routed === undefined) throw refuse('unexpected_issuer');
  // A refresh token (or an ID token) introspected active is still no access token.
  const tokenType = own(members, 'token_type');
  if (tokenType !== undefined && !ACCESS_TOKEN_TYPES.includes(tokenType)) throw refuse('unexpected_type');
  const exp = own(members, 'exp');
  const iat = own(members, 'iat');
  if ((exp !== undefined && !isNumericDate(exp)) || (iat !== undefined && !isNumericDate(iat))) throw refuse('invalid_claim');
  const aud = own(members, 'aud');
  // An exact audience may go unnamed (CyberArk's answer need not carry `aud`); a resource must be named.
  if (aud === undefined && routed.audienceComparison === 'resource') throw refuse('missing_claim');
  if (aud !== undefined && !namesAudience(aud, routed)) throw refuse('unexpected_audience');
  if (typeof exp === 'number' && exp <= now / 1000 - routed.clockTolerance) throw refuse('token_expired');
  const { maxTokenAge } = routed;
  const oldAfter = typeof iat === 'number' && maxTokenAge !== undefined ? iat + maxTokenAge : undefined;
  if (oldAfter !== undefined && oldAfter <= now / 1000 - routed.clockTolerance) throw refuse('token_too_old');
  if (routed.match.length > 0) checkClaimValues(routed, members, { subject: loggable });
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
    issuer: routed.issuer,
    source: 'introspection',
  };
  const until = Math.min(typeof exp === 'number' ? exp : Infinity, oldAfter ?? Infinity);
  return { auth: Object.freeze(auth), expiresAtMs: Number.isFinite(until) ? until * 1000 : undefined, rules: routed };
}

const isNumericDate = (value: unknown): value is number => typeof value === 'number' && value >= 0 && value <= LAST_NUMERIC_DATE;

/** True when `aud` names one of the issuer's audiences, compared as its configuration says. */
function namesAudience(aud: unknown, { audiences, audienceComparison }: AnswerIssuer): boolean {
  if (audienceComparison === 'resource') return audiences.some((resource) => namesResource(aud, resource));
  const named: unknown[] = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : [];
  return named.some((value) => typeof value === 'string' && audiences.includes(value));
}
