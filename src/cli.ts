#!/usr/bin/env node
/**
 * The `cyberark-bearer` command: get a token by client credentials, or verify one exactly as the
 * middleware would and say why it is refused. Exit codes: 0 ok, 1 refused or failed, 2 usage.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { parseArgs, type ParseArgsConfig } from 'node:util';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { pino } from 'pino';
import { createBearerAuth, type BearerAuth } from './create-bearer-auth.js';
import type { BearerAuthOptions } from './config.js';
import { BearerError, ConfigError, KeysFetchError } from './errors.js';
import { createClientCredentials, TokenError, TokenRequestError, TokenUnavailableError, type ClientCredentialsOptions } from './client/index.js';

const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** Thrown for mistakes in the command line; printed with a pointer to the command's help. */
class UsageError extends Error {}

const MAIN_HELP = `Usage: cyberark-bearer <command> [options]

Commands:
  token            Get an access token by client credentials and print it
  verify           Check a token exactly as requireToken() would, and say why it is refused

Run "cyberark-bearer <command> --help" for the options of a command.
Exit codes: 0 success, 1 token refused or not obtained, 2 wrong usage or configuration.
`;

const TOKEN_HELP = `Usage: cyberark-bearer token [options]

Gets an access token from POST <tenant>/oauth2/token/<appId> (client credentials) and prints it.

Options (each falls back to its environment variable):
  --tenant-url <url>       Tenant base URL                          CYBERARK_TENANT_URL
  --app-id <id>            Application ID of the OAuth2 Server app  CYBERARK_APP_ID
  --token-url <url>        Token endpoint, instead of tenant URL and app id (other issuers)
  --client-id <id>         The service user's login                 CYBERARK_CLIENT_ID
  --client-secret-stdin    Read the client secret from stdin        CYBERARK_CLIENT_SECRET
                           (never on the command line: other users can see it)
  --scope <scope>          Scope to request; repeat it, or space-separate several
  --auth-method <m>        body (default) or basic (HTTP Basic client authentication)
  --timeout <seconds>      Time limit of one request (default 5)
  --allow-insecure-http    Allow an http: token URL on a host other than loopback
  --decode                 Print the token's header and claims (decoded, not verified)
  --json                   Print JSON: access_token, token_type, expires_at, scope
  --verbose                Log the token requests (pino, on stderr)
  -h, --help               Show this help

Examples:
  export CYBERARK_TENANT_URL=https://abc1234.id.cyberark.cloud CYBERARK_APP_ID=orders-api
  export CYBERARK_CLIENT_ID=svc-reporting@cyberark.cloud.1234
  read -rs CYBERARK_CLIENT_SECRET && export CYBERARK_CLIENT_SECRET
  TOKEN=$(cyberark-bearer token --scope orders.read)
  cyberark-bearer token --scope orders.read --decode
`;

const VERIFY_HELP = `Usage: cyberark-bearer verify [-] [options]

Verifies a token as requireToken() would with the same options (signature against the JWKS,
issuer, audience, expiry, scopes), prints the verdict and, when refused, why.
The token is read from stdin with "-"; with no argument, from CYBERARK_ACCESS_TOKEN, else from
stdin when it is not a terminal. A leading "Bearer " is ignored. A token given as the argument
works too, with a warning: other users of the machine can see it in the process list.

Options (each falls back to its environment variable):
  --tenant-url <url>       Tenant base URL                          CYBERARK_TENANT_URL
  --app-id <id>            Application ID of the OAuth2 Server app  CYBERARK_APP_ID
  --audience <aud>         Accepted audience (repeatable)           CYBERARK_AUDIENCE
  --issuer <iss>           Accepted issuer (repeatable)             CYBERARK_ISSUER
  --jwks-uri <url>         JWKS URL                                 CYBERARK_JWKS_URI
  --scope <scope>          Required scope (repeatable: all of them)
  --any-scope <scope>      Required scope (repeatable: any of them)
  --algorithm <alg>        Accepted algorithm (repeatable; default RS256)
  --clock-tolerance <s>    Leeway for exp, nbf and iat (default 30)
  --max-token-age <s>      Refuse tokens whose iat is older
  --strict                 RFC 9068 profile (CyberArk tokens do not meet it)
  --allow-insecure-http    Allow http: URLs on hosts other than loopback
  --json                   Print the verdict as JSON
  --verbose                Log key fetches (pino, on stderr)
  -h, --help               Show this help

Exit code 0 when the token would be accepted, 1 when it would be refused.

Examples:
  cyberark-bearer token --scope orders.read | cyberark-bearer verify --audience orders-api --scope orders.read
  printf %s "$TOKEN" | cyberark-bearer verify - --audience orders-api
  CYBERARK_ACCESS_TOKEN=$TOKEN cyberark-bearer verify --audience orders-api
`;

const COMMON = {
  json: { type: 'boolean' },
  verbose: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
  'allow-insecure-http': { type: 'boolean' },
  'tenant-url': { type: 'string' },
  'app-id': { type: 'string' },
  scope: { type: 'string', multiple: true },
} as const satisfies ParseArgsConfig['options'];

const TOKEN_OPTIONS = {
  ...COMMON,
  'token-url': { type: 'string' },
  'client-id': { type: 'string' },
  'client-secret-stdin': { type: 'boolean' },
  'auth-method': { type: 'string' },
  timeout: { type: 'string' },
  decode: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

const VERIFY_OPTIONS = {
  ...COMMON,
  audience: { type: 'string', multiple: true },
  issuer: { type: 'string', multiple: true },
  'jwks-uri': { type: 'string' },
  'any-scope': { type: 'string', multiple: true },
  algorithm: { type: 'string', multiple: true },
  'clock-tolerance': { type: 'string' },
  'max-token-age': { type: 'string' },
  strict: { type: 'boolean' },
} as const satisfies ParseArgsConfig['options'];

/** Which flag sets each option, to turn a ConfigError into advice about the command line. */
const FLAGS: Record<string, string> = {
  tenantUrl: '--tenant-url', appId: '--app-id', tokenUrl: '--token-url', clientId: '--client-id',
  clientSecret: '--client-secret-stdin', scope: '--scope', authMethod: '--auth-method', timeout: '--timeout',
  audience: '--audience', issuer: '--issuer', jwksUri: '--jwks-uri', algorithms: '--algorithm',
  clockTolerance: '--clock-tolerance', maxTokenAge: '--max-token-age', scopes: '--scope', 'scopes.anyOf': '--any-scope',
};

/** Where `verify` finds the token when no argument names it. */
const TOKEN_VARIABLE = 'CYBERARK_ACCESS_TOKEN';

/** A library error message without the library's prefix, for a line that names the command. */
const bare = (message: string): string => message.replace(/^cyberark-bearer: /, '');

/** C0 and C1 controls, DEL, and the bidi and line-separator characters that reorder or break text. */
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/g;

/**
 * `text` with every character a terminal could act on written as \uXXXX: claims and server text
 * cannot move the cursor, retitle the window, reorder a line or start a line of their own. The
 * escape is JSON's, so JSON output stays valid and means the same.
 */
const printable = (text: string): string => text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** What reaches the terminal: line feeds between lines stay, any other control is escaped. */
const printableLines = (text: string): string => text.split('\n').map(printable).join('\n');

interface Io {
  out(text: string): void;
  err(text: string): void;
  stdin(): string;
  stdinIsTerminal: boolean;
  env: NodeJS.ProcessEnv;
}

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O, command: string) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    if (/--client-secret\b/.test(message) && !/--client-secret-stdin/.test(message)) {
      throw new UsageError(`${command}: there is no --client-secret: pass the secret in CYBERARK_CLIENT_SECRET or on stdin with --client-secret-stdin (command-line arguments are visible to other users)`);
    }
    throw new UsageError(`${command}: ${message}`);
  }
}

function number(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n)) throw new UsageError(`${flag} takes a number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

function scopesOf(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) => v.split(' ')).filter((s) => s !== '');
}

function logger(verbose: boolean | undefined, io: Io) {
  return pino({ name: 'cyberark-bearer', level: verbose ? 'debug' : 'silent' }, { write: (line: string) => io.err(line) });
}

/** "1h 4m", "3m 12s", "42s": how far `seconds` is from now, for people. */
function span(seconds: number): string {
  let s = Math.round(Math.abs(seconds));
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m ${s}s`;
  return `${s}s`;
}

/** The largest distance from 1970 a Date can hold (ECMA-262: 8.64e15 ms), in seconds. */
const DATE_RANGE_SECONDS = 8.64e12;

function when(epochSeconds: number): string {
  // A claim may hold any JSON number; one that no Date can hold is shown as the number.
  if (!(Math.abs(epochSeconds) <= DATE_RANGE_SECONDS)) return `${epochSeconds} (beyond any date)`;
  const delta = epochSeconds - Date.now() / 1000;
  return `${new Date(epochSeconds * 1000).toISOString()} (${delta >= 0 ? `in ${span(delta)}` : `${span(delta)} ago`})`;
}

function configProblem(error: ConfigError, command: string): UsageError {
  const flag = FLAGS[error.option];
  return new UsageError(`${command}: ${bare(error.message)}${flag ? ` (command line: ${flag})` : ''}`);
}

// ---------------------------------------------------------------------------------------------
// token

async function tokenCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, TOKEN_OPTIONS, 'token');
  if (values.help) {
    io.out(TOKEN_HELP);
    return EXIT.ok;
  }
  if (positionals.length > 0) throw new UsageError(`token: unexpected argument ${JSON.stringify(positionals[0])}`);
  let clientSecret: string | undefined;
  if (values['client-secret-stdin']) {
    clientSecret = io.stdin().replace(/\r?\n$/, '');
    if (clientSecret === '') throw new UsageError('token: --client-secret-stdin: nothing was read from stdin');
  }
  const options: ClientCredentialsOptions = {
    tenantUrl: values['tenant-url'],
    appId: values['app-id'],
    tokenUrl: values['token-url'],
    clientId: values['client-id'],
    clientSecret,
    scope: scopesOf(values.scope),
    authMethod: values['auth-method'] as ClientCredentialsOptions['authMethod'],
    timeout: number(values.timeout, '--timeout'),
    allowInsecureHttp: values['allow-insecure-http'],
    logger: logger(values.verbose, io),
    env: io.env,
  };
  let client;
  try {
    client = createClientCredentials(options);
  } catch (error) {
    if (error instanceof ConfigError) throw configProblem(error, 'token');
    throw error;
  }
  let token;
  try {
    token = await client.getAccessToken();
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (values.json) io.out(`${JSON.stringify(tokenErrorJson(error))}\n`);
    else io.err(`token: ${printable(bare(error.message))}\n`);
    return EXIT.refused;
  }
  let decoded: { header: unknown; claims: unknown } | undefined;
  if (values.decode) {
    try {
      decoded = { header: decodeProtectedHeader(token.token), claims: decodeJwt(token.token) };
    } catch {
      io.err('token: --decode: the token is not a JWT (an opaque token), so it has no claims to show\n');
      return EXIT.refused;
    }
  }
  if (values.json) {
    const body = {
      access_token: token.token,
      token_type: token.tokenType,
      expires_at: token.expiresAt,
      scope: token.scopes.join(' '),
      ...decoded,
    };
    io.out(`${JSON.stringify(body)}\n`);
  } else if (decoded) {
    io.out(`${JSON.stringify(decoded, null, 2)}\n`);
  } else {
    io.out(`${token.token}\n`);
  }
  return EXIT.ok;
}

function tokenErrorJson(error: TokenError): Record<string, unknown> {
  const base = { ok: false, code: error.code, message: error.message, token_url: error.tokenUrl };
  if (error instanceof TokenRequestError) {
    return { ...base, status: error.status, error: error.error ?? null, error_description: error.errorDescription ?? null };
  }
  if (error instanceof TokenUnavailableError) return { ...base, kind: error.kind, status: error.status ?? null, attempts: error.attempts };
  return base;
}

// ---------------------------------------------------------------------------------------------
// verify

interface Verdict {
  valid: boolean;
  json: Record<string, unknown>;
  lines: string[];
}

/**
 * The token from stdin or the environment. An argument still works, but the process list shows
 * it to every user of the machine for the whole run, hence the warning.
 */
function readToken(positionals: string[], io: Io): string {
  if (positionals.length > 1) throw new UsageError(`verify: takes one token, got ${positionals.length} arguments (pipe it to "verify -", or pass it in ${TOKEN_VARIABLE})`);
  const [argument] = positionals;
  let token: string | undefined;
  if (argument === '-') {
    token = io.stdin();
  } else if (argument !== undefined) {
    io.err(`cyberark-bearer verify: warning: other users can see a token on the command line; pipe it to "verify -" or pass it in ${TOKEN_VARIABLE}\n`);
    token = argument;
  } else {
    const fromEnv = Object.hasOwn(io.env, TOKEN_VARIABLE) ? io.env[TOKEN_VARIABLE] : undefined;
    // Empty counts as unset, as for the CYBERARK_* configuration variables.
    token = fromEnv || (io.stdinIsTerminal ? undefined : io.stdin());
  }
  token = token?.trim().replace(/^bearer\s+/i, '');
  if (!token) throw new UsageError(`verify: the token to verify is missing: pipe it to "cyberark-bearer verify -", or pass it in ${TOKEN_VARIABLE}`);
  return token;
}

/** What `--scope` / `--any-scope` ask for. */
type CliRequirement = string[] | { anyOf: string[] };

function requirementOf(all: string[] | undefined, any: string[] | undefined): CliRequirement | undefined {
  if (all && any) throw new UsageError('verify: give --scope (all of) or --any-scope (any of), not both');
  if (all) return all;
  if (any) return { anyOf: any };
  return undefined;
}

async function verifyCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parse(args, VERIFY_OPTIONS, 'verify');
  if (values.help) {
    io.out(VERIFY_HELP);
    return EXIT.ok;
  }
  const token = readToken(positionals, io);
  const required = requirementOf(scopesOf(values.scope), scopesOf(values['any-scope']));
  const options: BearerAuthOptions = {
    tenantUrl: values['tenant-url'],
    appId: values['app-id'],
    audience: values.audience,
    issuer: values.issuer,
    jwksUri: values['jwks-uri'],
    algorithms: values.algorithm as BearerAuthOptions['algorithms'],
    clockTolerance: number(values['clock-tolerance'], '--clock-tolerance'),
    maxTokenAge: number(values['max-token-age'], '--max-token-age'),
    strict: values.strict,
    allowInsecureHttp: values['allow-insecure-http'],
    logger: logger(values.verbose, io),
    env: io.env,
  };
  let auth: BearerAuth;
  try {
    auth = createBearerAuth(options);
    // The middleware validates the requirement when the route is built; so do we, up front.
    auth.requireToken(required);
  } catch (error) {
    if (error instanceof ConfigError) throw configProblem(error, 'verify');
    throw error;
  }
  const verdict = await judge(auth, token, required);
  if (values.json) io.out(`${JSON.stringify(verdict.json)}\n`);
  else io.out(`${verdict.lines.join('\n')}\n`);
  return verdict.valid ? EXIT.ok : EXIT.refused;
}

async function judge(auth: BearerAuth, token: string, required: CliRequirement | undefined): Promise<Verdict> {
  let keysProblem: string | undefined;
  try {
    await auth.ready();
  } catch (error) {
    if (!(error instanceof KeysFetchError)) throw error;
    keysProblem = bare(error.message);
  }
  try {
    // Through the same extraction as a request's Authorization header, then verify and scopes.
    const info = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } }, required);
    const lines = [
      'valid: the API would accept this token',
      `  client    ${printable(info.clientId ?? '(none)')}`,
      `  subject   ${printable(info.subject ?? '(none)')}`,
      `  scopes    ${printable(info.scopes.join(' ') || '(none)')}`,
      `  issuer    ${printable(String(info.claims.iss))}`,
      `  audience  ${printable([info.claims.aud].flat().join(', '))}`,
      `  expires   ${when(info.expiresAt)}`,
    ];
    return {
      valid: true,
      lines,
      json: { valid: true, clientId: info.clientId ?? null, subject: info.subject ?? null, scopes: info.scopes, expiresAt: info.expiresAt, header: info.header, claims: info.claims },
    };
  } catch (error) {
    if (!(error instanceof BearerError)) throw error;
    const details = explain(error, token, auth, required, keysProblem);
    const lines = [
      `invalid: ${error.description}`,
      `  reason    ${error.reason} (the API would answer ${error.status} ${error.error})`,
      ...details.map((d) => `  ${d}`),
    ];
    return {
      valid: false,
      lines,
      json: { valid: false, status: error.status, error: error.error, reason: error.reason, description: error.description, details },
    };
  }
}

/** What the token says (unverified) next to what was expected: the answer to "why a 401?". */
function explain(error: BearerError, token: string, auth: BearerAuth, required: CliRequirement | undefined, keysProblem: string | undefined): string[] {
  let claims: Record<string, unknown> = {};
  let header: Record<string, unknown> = {};
  try {
    claims = decodeJwt(token);
    header = decodeProtectedHeader(token);
  } catch {
    // Malformed or opaque: the reason says so already.
  }
  const { config } = auth;
  const show = (value: unknown) => (value === undefined ? '(absent)' : printable(JSON.stringify(value)));
  const list = (values: readonly string[]) => values.map((v) => printable(JSON.stringify(v))).join(', ');
  switch (error.reason) {
    case 'token_expired':
      return typeof claims.exp === 'number'
        ? [`expired   ${when(claims.exp)}, clock tolerance ${config.clockTolerance}s`]
        : [];
    case 'token_not_yet_valid':
      return typeof claims.nbf === 'number' ? [`not before ${when(claims.nbf)}, clock tolerance ${config.clockTolerance}s`] : [];
    case 'issued_in_future':
      return typeof claims.iat === 'number' ? [`issued    ${when(claims.iat)}: check the clocks of the issuer and this host`] : [];
    case 'token_too_old':
      return typeof claims.iat === 'number' ? [`issued    ${when(claims.iat)}, maximum age ${config.maxTokenAge ?? '?'}s`] : [];
    case 'unexpected_issuer': {
      const lines = [`token iss ${show(claims.iss)}`, `accepted  ${list(config.issuers)}`];
      const iss = typeof claims.iss === 'string' ? claims.iss.replace(/\/$/, '') : undefined;
      if (iss !== undefined && config.issuers.some((i) => i.replace(/\/$/, '') === iss)) {
        lines.push('hint      they differ only by the trailing slash; issuers are compared exactly (CyberArk\'s end with "/")');
      }
      return lines;
    }
    case 'unexpected_audience':
      return [`token aud ${show(claims.aud)}`, `accepted  ${list(config.audiences)}`];
    case 'algorithm_not_allowed':
      return [`token alg ${show(header.alg)}`, `accepted  ${list(config.algorithms)}`];
    case 'unknown_key':
    case 'bad_signature':
    case 'key_mismatch': {
      const kids = Object.values(auth.status()).flatMap((s) => s.kids);
      const where = config.jwksUri ?? 'the discovered JWKS';
      return [
        `token kid ${show(header.kid)}`,
        `keys      ${kids.length > 0 ? list(kids) : '(none)'} from ${where}`,
        ...(error.reason === 'bad_signature' ? ['hint      the signature does not match that key: the token was altered, or signed by another tenant'] : []),
      ];
    }
    case 'insufficient_scope': {
      const granted = auth.config.scopeClaims.map((c) => claims[c]).find((v) => v !== undefined);
      const wanted = Array.isArray(required) ? required.join(' ') : `any of ${required?.anyOf.join(' ') ?? ''}`;
      return [`token     ${show(granted)}`, `required  ${wanted}`];
    }
    case 'not_a_jwt':
      return ['hint      an opaque token: set the token type of the CyberArk app to JWT'];
    case 'missing_expiry':
      return ['hint      tokens without exp are never accepted (RFC 8725)'];
    case 'keys_unavailable':
      return keysProblem ? [`keys      ${printable(keysProblem)}`] : [];
    default:
      return [];
  }
}

// ---------------------------------------------------------------------------------------------

async function main(argv: string[], io: Io): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'token':
        return await tokenCommand(rest, io);
      case 'verify':
        return await verifyCommand(rest, io);
      case 'help':
        if (rest[0] === 'token') io.out(TOKEN_HELP);
        else if (rest[0] === 'verify') io.out(VERIFY_HELP);
        else io.out(MAIN_HELP);
        return EXIT.ok;
      case '-h':
      case '--help':
        io.out(MAIN_HELP);
        return EXIT.ok;
      case undefined:
        io.err(MAIN_HELP);
        return EXIT.usage;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)} (commands: token, verify)`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const help = command === 'token' || command === 'verify' ? `cyberark-bearer ${command} --help` : 'cyberark-bearer --help';
    io.err(`cyberark-bearer ${printable(error.message)}\nSee "${help}".\n`);
    return EXIT.usage;
  }
}

const io: Io = {
  out: (text) => process.stdout.write(printableLines(text)),
  err: (text) => process.stderr.write(printableLines(text)),
  stdin: () => readFileSync(0, 'utf8'),
  stdinIsTerminal: isatty(0),
  env: process.env,
};

main(process.argv.slice(2), io).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    io.err(`cyberark-bearer: unexpected error: ${printable(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  },
);
