/**
 * `cyberark-bearer token`: gets an access token by client credentials and prints it, decoded or
 * as JSON if asked. The client secret comes from the environment or stdin, never the command line.
 */
import { decodeJwt, decodeProtectedHeader } from 'jose';
import {
  createClientCredentials,
  TokenError,
  TokenRequestError,
  TokenUnavailableError,
  type ClientCredentialsOptions,
} from '../client/index.js';
import { ConfigError } from '../errors.js';
import {
  APP_ID_FLAG,
  configProblem,
  EXIT,
  HELP_FLAG,
  parseCommandLine,
  parseSeconds,
  splitScopes,
  TENANT_URL_FLAG,
  UsageError,
  helpText,
  type Command,
  type FlagTable,
} from './flags.js';
import { commandLogger, printable, withoutLibraryPrefix, type Io } from './output.js';

export const TOKEN_COMMAND = {
  name: 'token',
  summary: 'Get an access token by client credentials and print it',
  usage: '[options]',
  about: 'Gets an access token from POST <tenant>/oauth2/token/<appId> (client credentials) and prints it.',
  flags: {
    'tenant-url': TENANT_URL_FLAG,
    'app-id': APP_ID_FLAG,
    'token-url': {
      type: 'string',
      value: '<url>',
      help: 'Token endpoint, instead of tenant URL and app id (other issuers)',
      option: 'tokenUrl',
    },
    'client-id': {
      type: 'string',
      value: '<id>',
      help: "The service user's login",
      env: 'CYBERARK_CLIENT_ID',
      option: 'clientId',
    },
    'client-secret-stdin': {
      type: 'boolean',
      help: ['Read the client secret from stdin', '(never on the command line: other users can see it)'],
      env: 'CYBERARK_CLIENT_SECRET',
      option: 'clientSecret',
    },
    scope: {
      type: 'string',
      multiple: true,
      value: '<scope>',
      help: 'Scope to request; repeat it, or space-separate several',
      option: 'scope',
    },
    'auth-method': {
      type: 'string',
      value: '<m>',
      help: 'body (default) or basic (HTTP Basic client authentication)',
      option: 'authMethod',
    },
    timeout: { type: 'string', value: '<seconds>', help: 'Time limit of one request (default 5)', option: 'timeout' },
    'allow-insecure-http': {
      type: 'boolean',
      help: 'Allow an http: token URL on a host other than loopback',
      option: 'allowInsecureHttp',
    },
    decode: { type: 'boolean', help: "Print the token's header and claims (decoded, not verified)" },
    json: { type: 'boolean', help: 'Print JSON: access_token, token_type, expires_at, scope' },
    verbose: { type: 'boolean', help: 'Log the token requests (pino, on stderr)' },
    help: HELP_FLAG,
  },
  epilogue: `Examples:
  export CYBERARK_TENANT_URL=https://abc1234.id.cyberark.cloud CYBERARK_APP_ID=orders-api
  export CYBERARK_CLIENT_ID=svc-reporting@cyberark.cloud.1234
  read -rs CYBERARK_CLIENT_SECRET && export CYBERARK_CLIENT_SECRET
  TOKEN=$(cyberark-bearer token --scope orders.read)
  cyberark-bearer token --scope orders.read --decode
`,
} as const satisfies Command<FlagTable>;

export async function tokenCommand(args: string[], io: Io): Promise<number> {
  const { values, positionals } = parseCommandLine(args, TOKEN_COMMAND);
  if (values.help) {
    io.out(helpText(TOKEN_COMMAND));
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
    scope: splitScopes(values.scope),
    authMethod: values['auth-method'] as ClientCredentialsOptions['authMethod'],
    timeout: parseSeconds(values.timeout, '--timeout'),
    allowInsecureHttp: values['allow-insecure-http'],
    logger: commandLogger(values.verbose, io),
    env: io.env,
  };
  let client;
  try {
    client = createClientCredentials(options);
  } catch (error) {
    if (error instanceof ConfigError) throw configProblem(error, TOKEN_COMMAND);
    throw error;
  }
  let token;
  try {
    token = await client.getAccessToken();
  } catch (error) {
    if (!(error instanceof TokenError)) throw error;
    if (values.json) io.out(`${JSON.stringify(tokenErrorJson(error))}\n`);
    else io.err(`token: ${printable(withoutLibraryPrefix(error.message))}\n`);
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
  if (error instanceof TokenUnavailableError)
    return { ...base, kind: error.kind, status: error.status ?? null, attempts: error.attempts };
  return base;
}
