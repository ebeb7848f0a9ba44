/**
 * Why a token is accepted or refused, for a log line or a support tool. The verdict is the real
 * request pipeline's (`authenticate()`); the details put what the token says (decoded, unverified)
 * next to what the configuration expects, and never include the token itself.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import type { ResolvedConfig, ResolvedIssuer } from '../config/options.js';
import type { BearerAuth } from '../create-bearer-auth.js';
import { BearerError, type OAuthErrorCode, type RefusalReason } from '../errors.js';
import { discoveryUrl } from '../jwks/discovery.js';
import { compileRequirement, type CompiledRequirement, type ScopeRequirement } from '../scopes.js';
import { INTROSPECTED_CHECKS, introspectedOnly, introspectionDetails } from '../introspection/explain.js';
import type { Introspector } from '../introspection/introspector.js';
import { checksRevocation, type RouteOptions } from '../introspection/verifiers.js';
import type { AuthInfo } from '../types.js';
import { own } from '../members.js';

const PIPELINE = [
  'syntax',
  'structure',
  'algorithm',
  'keys',
  'key',
  'signature',
  'type',
  'claims',
  'issuer',
  'audience',
  'not_before',
  'expiry',
  'age',
  'issued_at',
  'claim_rules',
  'introspection',
  'scopes',
] as const;

/**
 * The checks of a request, in the order it runs them: `syntax` (RFC 6750 token characters),
 * `structure` (a signed JWT, not too large), `algorithm`, `keys` (signing keys at hand), `key` (the
 * token's among them), `signature`, `type` (strict profile only), `claims` (required ones present
 * and well-formed), `issuer`, `audience`, `not_before`, `expiry`, `age` (with `maxTokenAge` only),
 * `issued_at` (not in the future), `claim_rules` (when the token's issuer has `claims` rules),
 * `introspection` (the issuer says the token is active: opaque tokens, and JWTs on a route with
 * `revocation`), `scopes` (when `explain()` is given required scopes). With several issuers, a
 * token is held to the settings of the issuer its `iss` names. A token introspected alone runs
 * `syntax`, `structure`, `introspection`, `issuer`, `audience`, `expiry`, `age`, `claim_rules`, `scopes`.
 */
export type CheckName = (typeof PIPELINE)[number];

export interface ExplanationCheck {
  readonly check: CheckName;
  /** `true` passed, `false` failed (the refusal's reason), `undefined` not reached (absent in JSON). */
  readonly ok: boolean | undefined;
  /** What the token has (unverified): a JSON value, a date, or a description. */
  readonly found?: string;
  /** What the configuration accepts. */
  readonly expected?: string;
  /** What to do about it. */
  readonly hint?: string;
}

/** What `auth.explain()` finds: the verdict, then the details. Narrow it on `valid`. */
export type Explanation = AcceptedExplanation | RefusedExplanation;

export interface AcceptedExplanation extends ExplanationDetails {
  /** The API would accept the token (with the `required` scopes). */
  readonly valid: true;
  /** What `req.auth` would hold, but the token. */
  readonly auth: Pick<AuthInfo, 'clientId' | 'subject' | 'scopes' | 'expiresAt' | 'issuer'>;
  readonly refusal?: undefined;
}

export interface RefusedExplanation extends ExplanationDetails {
  /** The API would refuse the token. */
  readonly valid: false;
  /** How the API would answer. */
  readonly refusal: {
    readonly status: number;
    readonly error: OAuthErrorCode;
    readonly reason: RefusalReason;
    readonly description: string;
  };
  readonly auth?: undefined;
}

interface ExplanationDetails {
  /** The token's header: verified when valid, else decoded only. Absent if it does not decode. */
  readonly header?: Readonly<Record<string, unknown>>;
  /** The token's claims: verified when valid, else decoded only. Absent if they do not decode. */
  readonly claims?: Readonly<Record<string, unknown>>;
  /** Each check the configuration runs, in order: those before the failed one passed. */
  readonly checks: readonly ExplanationCheck[];
  /** The introspection answer's members (`{ active: false }` for an inactive token), when the issuer was asked. */
  readonly introspection?: Readonly<Record<string, unknown>>;
}

/** The check each refusal fails. */
const FAILED_CHECK = {
  no_credentials: 'syntax',
  malformed_request: 'syntax',
  several_tokens: 'syntax',
  token_in_query: 'syntax',
  token_in_body: 'syntax',
  token_too_large: 'structure',
  not_a_jwt: 'structure',
  encrypted_token: 'structure',
  malformed_token: 'structure',
  unsupported_token: 'structure',
  algorithm_not_allowed: 'algorithm',
  keys_unavailable: 'keys',
  unknown_key: 'key',
  ambiguous_key: 'key',
  key_mismatch: 'key',
  bad_signature: 'signature',
  unexpected_type: 'type',
  missing_expiry: 'claims',
  missing_claim: 'claims',
  invalid_claim: 'claims',
  unexpected_issuer: 'issuer',
  unexpected_audience: 'audience',
  token_not_yet_valid: 'not_before',
  token_expired: 'expiry',
  token_too_old: 'age',
  issued_in_future: 'issued_at',
  claim_mismatch: 'claim_rules',
  insufficient_scope: 'scopes',
  token_inactive: 'introspection',
  introspection_unavailable: 'introspection',
  introspection_busy: 'introspection',
} as const satisfies Record<RefusalReason, CheckName>;

/** A character outside RFC 6750 §2.1 b64token (where `=` is only trailing padding). */
const NOT_B64TOKEN = /[^A-Za-z0-9\-._~+/=]/;

type Target = Pick<BearerAuth<object>, 'config' | 'authenticate' | 'status'>;
type Json = Readonly<Record<string, unknown>>;
/** A check's details before the absent ones are dropped. */
type Details = { readonly [K in 'found' | 'expected' | 'hint']?: string | undefined };

/** `auth.explain()`: see BearerAuth. */
export async function explainToken(
  auth: Target,
  token: string,
  required?: ScopeRequirement,
  route?: RouteOptions,
  introspector?: Introspector,
): Promise<Explanation> {
  if (typeof token !== 'string') throw new TypeError('explain() takes the token string');
  const requirement = compileRequirement(required);
  const revocation = checksRevocation(route);
  let outcome: { readonly info: AuthInfo<object> } | { readonly refusal: BearerError };
  try {
    // Through the same extraction as a request's Authorization header, then verify and scopes.
    outcome = { info: await auth.authenticate({ headers: { authorization: `Bearer ${token}` } }, required, route) };
  } catch (error) {
    if (!(error instanceof BearerError)) throw error;
    outcome = { refusal: error };
  }
  const refusal = 'refusal' in outcome ? outcome.refusal : undefined;
  const { header, claims } =
    'info' in outcome
      ? { header: outcome.info.header as Json, claims: outcome.info.claims as Json }
      : decode(token, auth.config.maxTokenLength);
  const failed = refusal && FAILED_CHECK[refusal.reason];
  // A token introspected alone runs fewer checks, in another order; a JWT's may end with introspection.
  const only = introspector !== undefined && introspectedOnly(auth.config.tokens, token);
  const asked = introspector !== undefined && (only || (revocation && !introspectedOnly(auth.config.tokens, token)));
  const order: readonly CheckName[] = only ? INTROSPECTED_CHECKS : PIPELINE;
  const passed = passedChecks(auth, order, failed, claims);
  const held = heldTo(auth.config, claims);
  const details = {
    ...checkDetails(auth, token, header, claims, requirement, held, refusal),
    ...(asked ? introspectionDetails(introspector, token, only, auth.config.maxTokenLength, refusal?.reason) : {}),
  };
  const checks = order
    .filter((check) => applies(check, held, required, asked))
    .map((check): ExplanationCheck => ({
      check,
      ok: check === failed ? false : passed.has(check) || undefined,
      ...withoutUndefined(details[check]),
    }));
  const answer = asked ? introspector.answerOf(token) : undefined;
  // The claims of an introspected token are the answer's members: withheld alike.
  const shown = answer && claims && introspector ? introspector.withheld(claims) : claims;
  const rest = { ...(header && { header }), ...(shown && { claims: shown }), checks, ...(answer && { introspection: answer }) };
  if ('info' in outcome) {
    const { clientId, subject, scopes, expiresAt, issuer } = outcome.info;
    return { valid: true, auth: { clientId, subject, scopes, expiresAt, issuer }, ...rest };
  }
  const { status, error, reason, description } = outcome.refusal;
  return { valid: false, refusal: { status, error, reason, description }, ...rest };
}

/** The token's header and claims without verifying them; nothing when it does not decode. */
function decode(token: string, maxLength: number): { header?: Json | undefined; claims?: Json | undefined } {
  if (token.length > maxLength) return {};
  let header: Json | undefined;
  let claims: Json | undefined;
  try {
    header = decodeProtectedHeader(token);
  } catch {
    // Not a JWS: the structure check says so.
  }
  try {
    claims = decodeJwt(token);
  } catch {
    // As above.
  }
  return { header, claims };
}

/** What a token is held to: its issuer's settings (`routed`), or the shared ones when its `iss` names none. */
interface HeldTo extends Omit<ResolvedIssuer, 'issuer'> {
  readonly routed: ResolvedIssuer | undefined;
  readonly strict: boolean;
}

function heldTo(config: ResolvedConfig, claims: Json | undefined): HeldTo {
  const iss = own(claims, 'iss');
  const routed = config.perIssuer.find((entry) => entry.issuer === iss);
  const { audiences, jwksUri, algorithms, clockTolerance, maxTokenAge, scopeClaims, strict } = config;
  const shared = {
    audiences,
    audienceComparison: config.perIssuer[0]?.audienceComparison ?? 'exact',
    jwksUri,
    algorithms,
    clockTolerance,
    maxTokenAge,
    scopeClaims,
    claims: config.claims ? [config.claims] : [],
  };
  return { ...(routed ?? shared), routed, strict };
}

function applies(check: CheckName, held: HeldTo, required: ScopeRequirement | undefined, asked: boolean): boolean {
  if (check === 'introspection') return asked;
  if (check === 'type') return held.strict;
  if (check === 'age') return held.maxTokenAge !== undefined;
  if (check === 'claim_rules') return held.claims.length > 0;
  if (check === 'scopes') return required !== undefined;
  return true;
}

/** The checks passed: all before the failed one in `order`, or every one when none failed. */
function passedChecks(
  { config }: Target,
  order: readonly CheckName[],
  failed: CheckName | undefined,
  claims: Json | undefined,
): Set<CheckName> {
  let end = failed === undefined ? order.length : order.indexOf(failed);
  // With several issuers, an unknown `iss` is refused before the signature is checked.
  const routedByIssuer = config.issuers.length > 1;
  if (order === PIPELINE && failed === 'issuer' && routedByIssuer && !config.issuers.includes(own(claims, 'iss') as string)) {
    end = PIPELINE.indexOf('algorithm');
  }
  return new Set(order.slice(0, end));
}

function checkDetails(
  auth: Target,
  token: string,
  header: Json | undefined,
  claims: Json | undefined,
  requirement: CompiledRequirement,
  held: HeldTo,
  refusal: BearerError | undefined,
): Record<CheckName, Details> {
  const { config } = auth;
  const reason = refusal?.reason;
  const now = Date.now() / 1000;
  const tolerance = held.clockTolerance;
  const sources = auth.status();
  const iss = own(claims, 'iss');
  // The token's own issuer's key source if it has one, else all of them.
  const tokenIssuer = typeof iss === 'string' && Object.hasOwn(sources, iss) ? iss : undefined;
  const kids = tokenIssuer !== undefined ? sources[tokenIssuer]!.kids : Object.values(sources).flatMap((s) => s.kids);
  const where = held.jwksUri ?? 'the discovered JWKS';
  // Nothing is found in a part that does not decode.
  const inHeader = (name: string) => (header === undefined ? undefined : show(own(header, name)));
  const inClaims = (name: string, as: (value: unknown) => string = show) =>
    claims === undefined ? undefined : as(own(claims, name));
  const scopeClaim = held.scopeClaims.map((name) => own(claims, name)).find((value) => value !== undefined);
  const requiredClaims = [
    'iss',
    'aud',
    'exp',
    ...(config.strict ? ['sub', 'client_id', 'iat', 'jti'] : held.maxTokenAge !== undefined ? ['iat'] : []),
  ];
  const missing = claims ? requiredClaims.filter((name) => !Object.hasOwn(claims, name)) : [];
  const dates = ['exp', 'nbf', 'iat']
    .filter((name) => own(claims, name) !== undefined)
    .map((name) => `${name} ${show(own(claims, name))}`);
  const fetchProblems = new Set(
    Object.entries(sources)
      .filter(([issuer, s]) => s.lastFailure !== undefined && (tokenIssuer === undefined || issuer === tokenIssuer))
      .map(([issuer, s]) => `cannot fetch signing keys from ${s.url ?? discoveryUrl(issuer)}: ${s.lastFailure}`),
  );
  return {
    syntax: {
      found: syntaxProblem(token),
      expected: 'one RFC 6750 token: letters, digits and -._~+/, then = padding',
      hint: syntaxHint(token),
    },
    structure: {
      found:
        token.length > config.maxTokenLength
          ? `${token.length} characters`
          : shape(token, header !== undefined && claims !== undefined),
      expected:
        token.length > config.maxTokenLength
          ? `at most ${config.maxTokenLength} characters`
          : 'a signed JWT: header.payload.signature',
      hint: reason === 'not_a_jwt' ? 'an opaque token: set the token type of the CyberArk app to JWT' : undefined,
    },
    algorithm: { found: inHeader('alg'), expected: list(held.algorithms) },
    keys: {
      found: kids.length > 0 ? list(kids) : '(none)',
      expected: `a key set from ${where}`,
      hint: fetchProblems.size > 0 ? [...fetchProblems].join('; ') : undefined,
    },
    key: { found: inHeader('kid'), expected: `${kids.length > 0 ? list(kids) : '(none)'} from ${where}` },
    signature: {
      hint:
        reason === 'bad_signature'
          ? 'the signature does not match that key: the token was altered, or signed by another tenant'
          : undefined,
    },
    type: { found: inHeader('typ'), expected: '"at+jwt"' },
    claims: {
      found: missing.length > 0 ? `missing ${missing.join(', ')}` : reason === 'invalid_claim' ? dates.join(', ') : undefined,
      expected: `${requiredClaims.join(', ')} present; exp, nbf and iat numeric dates`,
      hint: reason === 'missing_expiry' ? 'tokens without exp are never accepted (RFC 8725)' : undefined,
    },
    issuer: { found: inClaims('iss'), expected: list(config.issuers), hint: issuerHint(iss, config.issuers) },
    audience: audienceDetails(config, held, claims),
    not_before: {
      found: inClaims('nbf', date),
      expected: `at or before ${iso(now + tolerance)} (now plus the clock tolerance of ${tolerance}s)`,
    },
    expiry: {
      found: inClaims('exp', date),
      expected: `after ${iso(now - tolerance)} (now less the clock tolerance of ${tolerance}s)`,
    },
    age: {
      found: inClaims('iat', date),
      expected: `at or after ${iso(now - (held.maxTokenAge ?? 0) - tolerance)} (maximum age ${held.maxTokenAge}s, clock tolerance ${tolerance}s)`,
    },
    issued_at: {
      found: inClaims('iat', date),
      expected: `at or before ${iso(now + tolerance)} (now plus the clock tolerance of ${tolerance}s)`,
      hint: reason === 'issued_in_future' ? 'check the clocks of the issuer and this host' : undefined,
    },
    claim_rules: {
      found: claims === undefined ? undefined : ruleClaims(held.claims, claims),
      expected: held.claims.map(describeRule).join('; '),
      hint: reason === 'claim_mismatch' ? refusal?.detail : undefined,
    },
    introspection: {},
    scopes: {
      found: claims === undefined ? undefined : show(scopeClaim),
      expected: `${requirement.mode === 'any' ? 'any of ' : ''}${requirement.scopes.join(' ')}`,
    },
  };
}

/** The audiences of the token's issuer; with several issuers, a hint when it names another one's. */
function audienceDetails(config: ResolvedConfig, held: HeldTo, claims: Json | undefined): Details {
  const aud = own(claims, 'aud');
  const found = claims === undefined ? undefined : show(aud);
  if (held.routed === undefined || config.perIssuer.length === 1) return { found, expected: list(held.audiences) };
  const { routed } = held;
  const named = (Array.isArray(aud) ? aud : [aud]).filter((a): a is string => typeof a === 'string');
  const mine = named.some((a) => routed.audiences.includes(a));
  const theirs = mine
    ? undefined
    : config.perIssuer.find((other) => other !== routed && named.some((a) => other.audiences.includes(a)));
  const crossed = theirs && named.find((a) => theirs.audiences.includes(a));
  return {
    found,
    expected: `${list(routed.audiences)} (tokens of ${routed.issuer})`,
    hint: theirs
      ? `${JSON.stringify(crossed)} is the audience of another issuer (${theirs.issuer}): each issuer's tokens must name its own`
      : undefined,
  };
}

/** The token's values of the claims object rules name. */
function ruleClaims(rules: ResolvedIssuer['claims'], claims: Json): string | undefined {
  const names = [...new Set(rules.flatMap((rule) => (typeof rule === 'function' ? [] : Object.keys(rule))))];
  return names.length > 0 ? names.map((name) => `${name} ${show(own(claims, name))}`).join(', ') : undefined;
}

function describeRule(rule: ResolvedIssuer['claims'][number]): string {
  if (typeof rule === 'function') return 'a function of the claims and header';
  return Object.entries(rule)
    .map(([name, value]) => (Array.isArray(value) ? `${name} one of ${value.map(show).join(', ')}` : `${name} ${show(value)}`))
    .join(', ');
}

/** Where the token stops being an RFC 6750 token, without repeating it. */
function syntaxProblem(token: string): string | undefined {
  if (token === '') return '(empty)';
  const bad = NOT_B64TOKEN.exec(token);
  if (!bad) return undefined;
  return `U+${bad[0].charCodeAt(0).toString(16).toUpperCase().padStart(4, '0')} at character ${bad.index + 1}`;
}

function syntaxHint(token: string): string | undefined {
  if (/^bearer\s/i.test(token)) return 'pass the token without the "Bearer " prefix';
  if (token !== token.trim()) return 'remove the white space around the token';
  return undefined;
}

function shape(token: string, decodable: boolean): string {
  const parts = token.split('.').length;
  if (parts === 3 && decodable) return 'header.payload.signature';
  return `${parts} dot-separated part${parts === 1 ? '' : 's'}${parts === 3 ? ', not decodable' : ''}`;
}

function issuerHint(iss: unknown, issuers: readonly string[]): string | undefined {
  if (typeof iss !== 'string' || issuers.includes(iss)) return undefined;
  const bare = iss.replace(/\/$/, '');
  if (!issuers.some((i) => i.replace(/\/$/, '') === bare)) return undefined;
  return 'they differ only by the trailing slash; issuers are compared exactly (CyberArk\'s end with "/")';
}

const show = (value: unknown): string => (value === undefined ? '(absent)' : JSON.stringify(value));
const list = (values: readonly string[]): string => values.map((v) => JSON.stringify(v)).join(', ');

/** The largest distance from 1970 a Date can hold (ECMA-262: 8.64e15 ms), in seconds. */
const DATE_RANGE_SECONDS = 8.64e12;

/** A NumericDate claim as an ISO 8601 date; anything else as its JSON. */
function date(value: unknown): string {
  return typeof value === 'number' && Math.abs(value) <= DATE_RANGE_SECONDS ? iso(value) : show(value);
}

const iso = (seconds: number): string => new Date(seconds * 1000).toISOString();

function withoutUndefined(details: Details): Omit<ExplanationCheck, 'check' | 'ok'> {
  return Object.fromEntries(Object.entries(details).filter(([, value]) => value !== undefined));
}
