/**
 * Options of the client-credentials token client, their environment variables and defaults,
 * validated once into a frozen config. The secret is returned apart, never inside the config.
 */
import { ConfigError } from '../errors.js';
import type { BearerLogger } from '../log.js';
import { checkScopes } from '../scopes.js';
import {
  APP_ID_ENV, appIdOf, bool, checkUrl, describe, duration, envOf, integer, loggerOf, MAX_TIMER_SECONDS, optionOrEnv, ownProperties,
  plainObject, TENANT_URL_ENV, tenantOrigin, type Env,
} from '../option-checks.js';

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

const KNOWN_OPTIONS = new Set<string>([
  'tenantUrl', 'appId', 'tokenUrl', 'clientId', 'clientSecret', 'scope', 'authMethod', 'expirySkew', 'timeout',
  'retry', 'logger', 'allowInsecureHttp', 'env',
]);

const ENV = {
  tenantUrl: TENANT_URL_ENV,
  appId: APP_ID_ENV,
  clientId: 'CYBERARK_CLIENT_ID',
  clientSecret: 'CYBERARK_CLIENT_SECRET',
} as const;

/** Ids and secrets go into a form or a header: no control characters. */
const NO_CONTROL = /^[^\x00-\x1f\x7f]+$/;

/** An option, else its env var (trimmed; empty counts as unset). */
function pick(options: ClientCredentialsOptions, env: Env, key: keyof typeof ENV): unknown {
  return optionOrEnv(options[key], env, key, ENV[key]).value;
}

function scopeList(value: unknown): readonly string[] {
  if (value === undefined) return Object.freeze([]);
  let list: unknown[];
  if (typeof value === 'string') list = value.split(' ').filter((s) => s !== '');
  else if (Array.isArray(value)) list = value;
  else throw new ConfigError('scope', `must be a space-separated string or an array of scopes, got ${describe(value)}`);
  return checkScopes(list, 'scope');
}

function tokenUrlOf(options: ClientCredentialsOptions, env: Env, allowInsecureHttp: boolean): string {
  if (options.tokenUrl !== undefined) {
    const url = checkUrl(options.tokenUrl, 'tokenUrl', undefined, allowInsecureHttp);
    return url.href;
  }
  const tenant = pick(options, env, 'tenantUrl');
  const app = pick(options, env, 'appId');
  if (tenant === undefined) {
    throw new ConfigError('tenantUrl', 'is required (or tokenUrl): tokens are requested at ${tenantUrl}/oauth2/token/${appId}', ENV.tenantUrl);
  }
  const origin = tenantOrigin(tenant, allowInsecureHttp);
  if (app === undefined) {
    throw new ConfigError('appId', 'is required with tenantUrl: tokens are requested at ${tenantUrl}/oauth2/token/${appId}', ENV.appId);
  }
  return `${origin}/oauth2/token/${encodeURIComponent(appIdOf(app))}`;
}

/**
 * Validates the options (falling back to `CYBERARK_*` env vars). Throws a ConfigError naming the
 * option; its messages describe a wrong secret by type only, never by value.
 */
export function resolveClientOptions(given: ClientCredentialsOptions = {}): { config: ResolvedClientConfig; clientSecret: string } {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError('options', `must be an object, got ${describe(given)}`);
  }
  const options: ClientCredentialsOptions = ownProperties(given);
  for (const key of Object.keys(options)) {
    if (!KNOWN_OPTIONS.has(key)) throw new ConfigError(key, 'is not an option of createClientCredentials (check its spelling)');
  }
  const env = envOf(options.env);
  const allowInsecureHttp = bool(options.allowInsecureHttp, 'allowInsecureHttp');

  const tokenUrl = tokenUrlOf(options, env, allowInsecureHttp);

  const clientId = pick(options, env, 'clientId');
  if (clientId === undefined) {
    throw new ConfigError('clientId', "is required: the login of the CyberArk service user (an OAuth confidential client)", ENV.clientId);
  }
  if (typeof clientId !== 'string' || !NO_CONTROL.test(clientId)) {
    throw new ConfigError('clientId', `must be a non-empty string without control characters, got ${describe(clientId)}`, ENV.clientId);
  }
  // Read from the option as given: a secret may legitimately start or end with a space.
  const clientSecret = options.clientSecret !== undefined ? options.clientSecret : env[ENV.clientSecret] || undefined;
  if (clientSecret === undefined) {
    throw new ConfigError('clientSecret', "is required: the service user's password", ENV.clientSecret);
  }
  if (typeof clientSecret !== 'string' || !NO_CONTROL.test(clientSecret)) {
    throw new ConfigError('clientSecret', `must be a non-empty string without control characters, got ${describe(clientSecret)}`, ENV.clientSecret);
  }

  const authMethod = options.authMethod ?? 'body';
  if (authMethod !== 'body' && authMethod !== 'basic') {
    throw new ConfigError('authMethod', `must be "body" or "basic", got ${typeof authMethod === 'string' ? JSON.stringify(authMethod) : describe(authMethod)}`);
  }

  const retry = plainObject(options.retry, 'retry', ['attempts', 'maxElapsed']);

  const logger = loggerOf(options.logger, env);

  const config: ResolvedClientConfig = Object.freeze({
    tokenUrl,
    clientId,
    scopes: scopeList(options.scope),
    authMethod,
    expirySkew: duration(options.expirySkew, 'expirySkew', 60)!,
    // A longer timer fires at once (Node clamps it to 1 ms), so every request would time out.
    timeout: duration(options.timeout, 'timeout', 5, { exclusiveMin: true, max: MAX_TIMER_SECONDS })!,
    retry: Object.freeze({
      attempts: integer(retry.attempts, 'retry.attempts', 3, 1, 10),
      maxElapsed: duration(retry.maxElapsed, 'retry.maxElapsed', 10, { exclusiveMin: true, max: MAX_TIMER_SECONDS })!,
    }),
    allowInsecureHttp,
    logger,
  });
  return { config, clientSecret };
}
