/**
 * Options of the client-credentials token client, the table their names, env vars and defaults
 * come from, validated once, top-down, into a frozen config. The secret is returned apart.
 */
import {
  appIdOf,
  checkUrl,
  clientIdOf,
  clientSecretOf,
  envOf,
  flag,
  kindOf,
  loggerOf,
  MAX_TIMER_SECONDS,
  number,
  numbers,
  ownOptions,
  reader,
  type Reader,
  tenantOrigin,
  type Given,
  type NumberSpec,
  type OptionSpec,
} from '../config/checks.js';
import { ConfigError } from '../errors.js';
import type { BearerLogger } from '../log.js';
import { checkScopes } from '../scopes.js';

/** How the client authenticates at the token endpoint (RFC 6749 §2.3.1). */
export type ClientAuthMethod = 'body' | 'basic';

/** Retries of a token request that failed for a passing reason (network, timeout, 5xx, 429). */
export interface TokenRetryOptions {
  /** Most requests per token, the first included. Default 3. */
  attempts?: number | undefined;
  /** Longest time spent on one token, all attempts and waits included, in seconds. Default 10. */
  maxElapsed?: number | undefined;
}

export interface ClientCredentialsOptions {
  /** Tenant base URL, e.g. `https://abc1234.id.cyberark.cloud`. Env `CYBERARK_TENANT_URL`. */
  tenantUrl?: string | undefined;
  /** Application ID of the OAuth2 Server app the token is for. Env `CYBERARK_APP_ID`. */
  appId?: string | undefined;
  /** Token endpoint URL. Default `${tenantUrl}/oauth2/token/${appId}`; set it for other issuers. */
  tokenUrl?: string | undefined;
  /** The service user's login (the OAuth client id). Env `CYBERARK_CLIENT_ID`. */
  clientId?: string | undefined;
  /** The service user's password (the client secret). Env `CYBERARK_CLIENT_SECRET`. */
  clientSecret?: string | undefined;
  /** Scopes to request: space-separated, or an array. Default: none (the server's default grant). */
  scope?: string | readonly string[] | undefined;
  /** `body` (default, as CyberArk documents): id and secret in the form. `basic`: HTTP Basic. */
  authMethod?: ClientAuthMethod | undefined;
  /** A token counts as expired this many seconds before it does (at most half its lifetime). Default 60. */
  expirySkew?: number | undefined;
  /** Time limit of one token request, in seconds. Default 5. */
  timeout?: number | undefined;
  /** Retries of failed token requests. */
  retry?: TokenRetryOptions | undefined;
  /** A pino logger (or any logger with the same methods). Default: pino at `LOG_LEVEL` (default `info`). */
  logger?: BearerLogger | undefined;
  /** Allow plain `http:` to hosts other than loopback: the token URL, and URLs given to `fetch()`. Default false. */
  allowInsecureHttp?: boolean | undefined;
  /** Where environment variables are read from. Default `process.env`. */
  env?: Readonly<Record<string, string | undefined>> | undefined;
}

/** The validated options, without the secret. */
export interface ResolvedClientConfig {
  readonly tokenUrl: string;
  readonly clientId: string;
  /** The requested scopes, in the order given, without duplicates. */
  readonly scopes: readonly string[];
  readonly authMethod: ClientAuthMethod;
  readonly expirySkew: number;
  readonly timeout: number;
  readonly retry: Readonly<{ attempts: number; maxElapsed: number }>;
  readonly allowInsecureHttp: boolean;
  readonly logger: BearerLogger;
}

/** Every option, in the order it is resolved (a missing or extra name is a compile error). */
const OPTIONS = {
  env: {},
  allowInsecureHttp: { default: false },
  tenantUrl: { env: 'CYBERARK_TENANT_URL' },
  appId: { env: 'CYBERARK_APP_ID' },
  tokenUrl: {},
  clientId: { env: 'CYBERARK_CLIENT_ID' },
  clientSecret: { env: 'CYBERARK_CLIENT_SECRET' },
  scope: {},
  authMethod: { default: 'body' },
  expirySkew: { default: 60 },
  // A longer timer fires at once (Node clamps it to 1 ms), so every request would time out.
  timeout: { default: 5, greaterThan: 0, max: MAX_TIMER_SECONDS },
  retry: {},
  logger: {},
} as const satisfies Record<keyof ClientCredentialsOptions, OptionSpec>;

const RETRY = {
  attempts: { default: 3, integer: true, min: 1, max: 10 },
  maxElapsed: { default: 10, greaterThan: 0, max: MAX_TIMER_SECONDS },
} as const satisfies Record<keyof TokenRetryOptions, NumberSpec>;

/**
 * Validates the options (falling back to `CYBERARK_*` env vars). Throws a ConfigError naming the
 * option; its messages describe a wrong secret by type only, never by value.
 */
export function resolveClientOptions(given: ClientCredentialsOptions = {}): {
  config: ResolvedClientConfig;
  clientSecret: string;
} {
  const options = ownOptions(given, OPTIONS, 'createClientCredentials');
  const env = envOf(options.env);
  const read = reader(options, env, OPTIONS);
  const allowInsecureHttp = flag(read('allowInsecureHttp'));
  const tokenUrl = tokenUrlOf(read, allowInsecureHttp);
  const clientId = clientIdOf(read('clientId'), 'the login of the CyberArk service user (an OAuth confidential client)');
  const clientSecret = clientSecretOf(options.clientSecret, env, 'clientSecret', OPTIONS.clientSecret.env);
  const config: ResolvedClientConfig = Object.freeze({
    tokenUrl,
    clientId,
    scopes: scopeList(read('scope')),
    authMethod: authMethodOf(read('authMethod')),
    expirySkew: number(read('expirySkew')),
    timeout: number(read('timeout')),
    retry: numbers(read('retry'), RETRY),
    allowInsecureHttp,
    logger: loggerOf(read('logger'), env),
  });
  return { config, clientSecret };
}

/** `tokenUrl` as given, else CyberArk's token endpoint of the tenant and app. */
function tokenUrlOf(read: Reader<typeof OPTIONS>, allowInsecureHttp: boolean): string {
  const given = read('tokenUrl');
  if (given.value !== undefined) return checkUrl(given.value, given.option, undefined, allowInsecureHttp).href;
  // With a tokenUrl, tenantUrl and appId are unused and left unchecked.
  const tenant = read('tenantUrl');
  const app = read('appId');
  if (tenant.value === undefined) {
    throw new ConfigError(
      'tenantUrl',
      'is required (or tokenUrl): tokens are requested at ${tenantUrl}/oauth2/token/${appId}',
      tenant.spec.env,
    );
  }
  const origin = tenantOrigin(tenant, allowInsecureHttp);
  if (app.value === undefined) {
    throw new ConfigError(
      'appId',
      'is required with tenantUrl: tokens are requested at ${tenantUrl}/oauth2/token/${appId}',
      app.spec.env,
    );
  }
  return `${origin}/oauth2/token/${encodeURIComponent(appIdOf(app))}`;
}

function scopeList({ option, value }: Given): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  let list: unknown[];
  if (typeof value === 'string') list = value.split(' ').filter((s) => s !== '');
  else if (Array.isArray(value)) list = value;
  else throw new ConfigError(option, `must be a space-separated string or an array of scopes, got ${kindOf(value)}`);
  return checkScopes(list, option);
}

function authMethodOf({ option, value, spec }: Given<typeof OPTIONS.authMethod>): ClientAuthMethod {
  const authMethod = value ?? spec.default;
  if (authMethod !== 'body' && authMethod !== 'basic') {
    const shown = typeof authMethod === 'string' ? JSON.stringify(authMethod) : kindOf(authMethod);
    throw new ConfigError(option, `must be "body" or "basic", got ${shown}`);
  }
  return authMethod;
}
