/**
 * `cyberark-bearer verify`: the verdict of `auth.explain()` on a token, for people or as JSON.
 * The token comes from stdin or the environment; an argument works, with a warning.
 */
import { createBearerAuth, type BearerAuth } from '../create-bearer-auth.js';
import type { CheckName, Explanation, ExplanationCheck, RefusedExplanation } from '../bearer/explain.js';
import type { BearerAuthOptions, ResolvedConfig } from '../config/options.js';
import { ConfigError } from '../errors.js';
import type { ScopeRequirement } from '../scopes.js';
import {
  APP_ID_FLAG,
  configProblem,
  EXIT,
  HELP_FLAG,
  helpText,
  parseCommandLine,
  parseSeconds,
  splitScopes,
  TENANT_URL_FLAG,
  UsageError,
  type Command,
  type FlagTable,
} from './flags.js';
import { repeatsSecret } from '../client/token-endpoint.js';
import { commandLogger, formatEpochSeconds, printable, type Io } from './output.js';

/** Where `verify` finds the token when no argument names it. */
const TOKEN_VARIABLE = 'CYBERARK_ACCESS_TOKEN';
/** The introspecting service user's password: from the environment only, never an argument. */
const INTROSPECTION_SECRET_VARIABLE = 'CYBERARK_INTROSPECTION_CLIENT_SECRET';

export const VERIFY_COMMAND = {
  name: 'verify',
  summary: 'Check a token exactly as requireToken() would, and say why it is refused',
  usage: '[-] [options]',
  about: `Verifies a token as requireToken() would with the same options (signature against the JWKS,
issuer, audience, expiry, scopes), prints the verdict and, when refused, why.
The token is read from stdin with "-"; with no argument, from ${TOKEN_VARIABLE}, else from
stdin when it is not a terminal. A leading "Bearer " is ignored. A token given as the argument
works too, with a warning: other users of the machine can see it in the process list.
With --introspect it also asks the issuer's introspection endpoint whether the token is active
(as a route with { revocation: 'introspect' } does) and shows the answer's fields; the service
user's secret is read from ${INTROSPECTION_SECRET_VARIABLE} and never shown.`,
  flags: {
    'tenant-url': TENANT_URL_FLAG,
    'app-id': APP_ID_FLAG,
    audience: {
      type: 'string',
      multiple: true,
      value: '<aud>',
      help: 'Accepted audience (repeatable)',
      env: 'CYBERARK_AUDIENCE',
      option: 'audience',
    },
    issuer: {
      type: 'string',
      multiple: true,
      value: '<iss>',
      help: 'Accepted issuer (repeatable)',
      env: 'CYBERARK_ISSUER',
      option: 'issuer',
    },
    'jwks-uri': { type: 'string', value: '<url>', help: 'JWKS URL', env: 'CYBERARK_JWKS_URI', option: 'jwksUri' },
    scope: {
      type: 'string',
      multiple: true,
      value: '<scope>',
      help: 'Required scope (repeatable: all of them)',
      option: ['scopes', 'scopes.allOf'],
    },
    'any-scope': {
      type: 'string',
      multiple: true,
      value: '<scope>',
      help: 'Required scope (repeatable: any of them)',
      option: 'scopes.anyOf',
    },
    algorithm: {
      type: 'string',
      multiple: true,
      value: '<alg>',
      help: 'Accepted algorithm (repeatable; default RS256)',
      option: 'algorithms',
    },
    'clock-tolerance': {
      type: 'string',
      value: '<s>',
      help: 'Leeway for exp, nbf and iat (default 30)',
      option: 'clockTolerance',
    },
    'max-token-age': { type: 'string', value: '<s>', help: 'Refuse tokens whose iat is older', option: 'maxTokenAge' },
    strict: { type: 'boolean', help: 'RFC 9068 profile (CyberArk tokens do not meet it)', option: 'strict' },
    'allow-insecure-http': {
      type: 'boolean',
      help: 'Allow http: URLs on hosts other than loopback',
      option: 'allowInsecureHttp',
    },
    tokens: {
      type: 'string',
      value: '<kinds>',
      help: 'jwt, opaque or any (default jwt; any with --introspect)',
      env: 'CYBERARK_TOKENS',
      option: 'tokens',
    },
    introspect: {
      type: 'boolean',
      help: ['Ask the introspection endpoint too, and show its answer', `(the secret from ${INTROSPECTION_SECRET_VARIABLE})`],
    },
    'introspection-client-id': {
      type: 'string',
      value: '<id>',
      help: 'Service user that introspects',
      env: 'CYBERARK_INTROSPECTION_CLIENT_ID',
      option: ['introspection', 'introspection.clientId'],
    },
    'introspection-url': {
      type: 'string',
      value: '<url>',
      help: "Introspection endpoint (default: the tenant app's)",
      env: 'CYBERARK_INTROSPECTION_URL',
      option: 'introspection.url',
    },
    json: { type: 'boolean', help: 'Print the verdict as JSON' },
    verbose: { type: 'boolean', help: 'Log key fetches (pino, on stderr)' },
    help: HELP_FLAG,
  },
  epilogue: `Exit code 0 when the token would be accepted, 1 when it would be refused.

Examples:
  cyberark-bearer token --scope orders.read | cyberark-bearer verify --audience orders-api --scope orders.read
  printf %s "$TOKEN" | cyberark-bearer verify - --audience orders-api
  ${TOKEN_VARIABLE}=$TOKEN cyberark-bearer verify --audience orders-api
  ${INTROSPECTION_SECRET_VARIABLE}=… cyberark-bearer verify - --introspect --introspection-client-id svc-api@cyberark.cloud.1234 --audience orders-api
`,
} as const satisfies Command<FlagTable>;

export async function verifyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, VERIFY_COMMAND);
  if (values.help) {
    io.out(helpText(VERIFY_COMMAND));
    return EXIT.ok;
  }
  const token = readToken(positionals, io);
  const required = scopeRequirement(splitScopes(values.scope), splitScopes(values['any-scope']));
  const introspect = values.introspect === true;
  const clientId = values['introspection-client-id'];
  const url = values['introspection-url'];
  const options: BearerAuthOptions = {
    tenantUrl: values['tenant-url'],
    appId: values['app-id'],
    audience: values.audience,
    issuer: values.issuer,
    jwksUri: values['jwks-uri'],
    algorithms: values.algorithm as BearerAuthOptions['algorithms'],
    clockTolerance: parseSeconds(values['clock-tolerance'], '--clock-tolerance'),
    maxTokenAge: parseSeconds(values['max-token-age'], '--max-token-age'),
    strict: values.strict,
    allowInsecureHttp: values['allow-insecure-http'],
    // --introspect accepts opaque tokens too, unless told otherwise.
    tokens: (values.tokens ?? (introspect && !io.env.CYBERARK_TOKENS?.trim() ? 'any' : undefined)) as BearerAuthOptions['tokens'],
    // Unset members fall back to the CYBERARK_INTROSPECTION_* variables, the secret among them.
    introspection: clientId !== undefined || url !== undefined ? { clientId, url } : introspect ? {} : undefined,
    logger: commandLogger(values.verbose, io),
    env: io.env,
  };
  let auth: BearerAuth;
  let explanation: Explanation;
  try {
    auth = createBearerAuth(options);
    explanation = await auth.explain(token, required, introspect ? { revocation: 'introspect' } : undefined);
  } catch (error) {
    // The options, or the scope requirement (checked before the token is).
    if (error instanceof ConfigError) throw configProblem(error, VERIFY_COMMAND);
    throw error;
  }
  const secret = io.env[INTROSPECTION_SECRET_VARIABLE];
  const answer = explanation.introspection && withheld(explanation.introspection, secret);
  if (values.json) {
    const verdict = verdictJson(explanation, auth.config);
    // An opaque token's claims are the answer itself.
    if (answer && isRecord(verdict.claims)) verdict.claims = withheld(verdict.claims, secret);
    io.out(`${JSON.stringify({ ...verdict, ...(answer && { introspection: answer }) })}\n`);
  } else io.out(`${[...verdictLines(explanation, auth.config), ...answerLines(answer, auth.config)].join('\n')}\n`);
  return explanation.valid ? EXIT.ok : EXIT.refused;
}

/**
 * The token from stdin or the environment. An argument still works, but the process list shows
 * it to every user of the machine for the whole run, hence the warning.
 */
function readToken(positionals: string[], io: Io): string {
  if (positionals.length > 1) {
    throw new UsageError(
      `verify: takes one token, got ${positionals.length} arguments (pipe it to "verify -", or pass it in ${TOKEN_VARIABLE})`,
    );
  }
  const [argument] = positionals;
  let token: string | undefined;
  if (argument === '-') {
    token = io.stdin();
  } else if (argument !== undefined) {
    io.err(
      `cyberark-bearer verify: warning: other users can see a token on the command line; pipe it to "verify -" or pass it in ${TOKEN_VARIABLE}\n`,
    );
    token = argument;
  } else {
    const fromEnv = Object.hasOwn(io.env, TOKEN_VARIABLE) ? io.env[TOKEN_VARIABLE] : undefined;
    // Empty counts as unset, as for the CYBERARK_* configuration variables.
    token = fromEnv || (io.stdinIsTerminal ? undefined : io.stdin());
  }
  token = token?.trim().replace(/^bearer\s+/i, '');
  if (!token) {
    throw new UsageError(
      `verify: the token to verify is missing: pipe it to "cyberark-bearer verify -", or pass it in ${TOKEN_VARIABLE}`,
    );
  }
  return token;
}

/** What `--scope` (all of) or `--any-scope` ask for. */
function scopeRequirement(all: string[] | undefined, any: string[] | undefined): ScopeRequirement | undefined {
  if (all && any) throw new UsageError('verify: give --scope (all of) or --any-scope (any of), not both');
  if (all) return all;
  if (any) return { anyOf: any };
  return undefined;
}

function verdictJson(e: Explanation, config: ResolvedConfig): Record<string, unknown> {
  if (!e.valid) return { valid: false, ...e.refusal, details: refusalDetails(e, config) };
  const { clientId, subject, scopes, expiresAt } = e.auth;
  return {
    valid: true,
    clientId: clientId || null,
    subject: subject ?? null,
    scopes,
    expiresAt,
    header: e.header,
    claims: e.claims,
  };
}

function verdictLines(e: Explanation, config: ResolvedConfig): string[] {
  if (!e.valid) {
    const { description, reason, status, error } = e.refusal;
    return [
      `invalid: ${description}`,
      `  reason    ${reason} (the API would answer ${status} ${error})`,
      ...refusalDetails(e, config).map((line) => `  ${line}`),
    ];
  }
  const { clientId, subject, scopes, expiresAt } = e.auth;
  const claims = e.claims ?? {};
  // An introspection answer need not name the issuer or the audience.
  return [
    'valid: the API would accept this token',
    `  client    ${printable(clientId || '(none)')}`,
    `  subject   ${printable(subject ?? '(none)')}`,
    `  scopes    ${printable(scopes.join(' ') || '(none)')}`,
    ...(claims.iss === undefined ? [] : [`  issuer    ${printable(text(claims.iss))}`]),
    ...(claims.aud === undefined ? [] : [`  audience  ${printable([claims.aud].flat().map(text).join(', '))}`]),
    `  expires   ${formatEpochSeconds(expiresAt)}`,
  ];
}

/**
 * The answer without members that repeat the client secret (an endpoint might echo it): such a
 * member is shown as withheld, never in part.
 */
function withheld(answer: Readonly<Record<string, unknown>>, secret: string | undefined): Record<string, unknown> {
  const shown: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(answer)) {
    shown[name] =
      secret && repeatsSecret(`${name} ${JSON.stringify(value)}`, secret) ? '(withheld: it repeats the client secret)' : value;
  }
  return shown;
}

/** A string as it is, anything else as its JSON. */
const text = (value: unknown): string => (typeof value === 'string' ? value : JSON.stringify(value));

const isRecord = (value: unknown): value is Record<string, unknown> => typeof value === 'object' && value !== null;

const DATE_MEMBERS = new Set(['exp', 'iat', 'nbf']);

/** The introspection answer's members, one a line, dates as dates. */
function answerLines(answer: Record<string, unknown> | undefined, config: ResolvedConfig): string[] {
  if (answer === undefined) return [];
  const where = config.introspection?.url ?? "the issuer's introspection endpoint";
  const width = Math.max(9, ...Object.keys(answer).map((name) => name.length));
  return [
    `introspection: the answer of ${printable(where)}`,
    ...Object.entries(answer).map(([name, value]) => {
      const shown = DATE_MEMBERS.has(name) && typeof value === 'number' ? formatEpochSeconds(value) : text(value);
      return `  ${printable(name.padEnd(width))} ${printable(shown)}`;
    }),
  ];
}

/** What the token says next to what was expected, for the refusal's reason: the answer to "why a 401?". */
function refusalDetails(e: RefusedExplanation, config: ResolvedConfig): string[] {
  return detailLines(e, config).map(printable);
}

function detailLines(e: RefusedExplanation, config: ResolvedConfig): string[] {
  const check = (name: CheckName): ExplanationCheck | undefined => e.checks.find((c) => c.check === name);
  const found = (name: CheckName) => check(name)?.found ?? '(absent)';
  const expected = (name: CheckName) => check(name)?.expected ?? '';
  const hint = (name: CheckName, label = 'hint     ') => {
    const text = check(name)?.hint;
    return text === undefined ? [] : [`${label} ${text}`];
  };
  const claimDate = (claim: string) => {
    const value = e.claims !== undefined && Object.hasOwn(e.claims, claim) ? e.claims[claim] : undefined;
    return typeof value === 'number' ? formatEpochSeconds(value) : undefined;
  };
  const { clockTolerance, maxTokenAge } = config;
  switch (e.refusal.reason) {
    case 'token_expired': {
      const exp = claimDate('exp');
      return exp ? [`expired   ${exp}, clock tolerance ${clockTolerance}s`] : [];
    }
    case 'token_not_yet_valid': {
      const nbf = claimDate('nbf');
      return nbf ? [`not before ${nbf}, clock tolerance ${clockTolerance}s`] : [];
    }
    case 'issued_in_future': {
      const iat = claimDate('iat');
      return iat ? [`issued    ${iat}: ${check('issued_at')?.hint ?? ''}`] : [];
    }
    case 'token_too_old': {
      const iat = claimDate('iat');
      return iat ? [`issued    ${iat}, maximum age ${maxTokenAge ?? '?'}s`] : [];
    }
    case 'unexpected_issuer':
      return [`token iss ${found('issuer')}`, `accepted  ${expected('issuer')}`, ...hint('issuer')];
    case 'unexpected_audience':
      return [`token aud ${found('audience')}`, `accepted  ${expected('audience')}`];
    case 'algorithm_not_allowed':
      return [`token alg ${found('algorithm')}`, `accepted  ${expected('algorithm')}`];
    case 'unknown_key':
    case 'bad_signature':
    case 'key_mismatch':
      return [`token kid ${found('key')}`, `keys      ${expected('key')}`, ...hint('signature')];
    case 'insufficient_scope':
      return [`token     ${found('scopes')}`, `required  ${expected('scopes')}`];
    case 'not_a_jwt':
      return hint('structure');
    case 'missing_expiry':
      return hint('claims');
    case 'keys_unavailable':
      return hint('keys', 'keys     ');
    case 'token_inactive':
    case 'introspection_unavailable':
    case 'introspection_busy':
      return hint('introspection');
    default:
      return [];
  }
}
