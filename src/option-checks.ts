/**
 * The checks every set of options shares (the middleware's and the token client's): each throws a
 * ConfigError naming the option, and its env var when there is one, and describes a wrong value
 * by its type, never by its content (it may be a secret).
 */
import { ConfigError } from './errors.js';
import { createDefaultLogger, isLogger, type BearerLogger } from './log.js';

/** A wrong value in words that never repeat it: `null`, `an array`, `a string`, `number`… */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value;
}

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function isLoopback(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}

/** https, or plain http to a loopback host or when `allowInsecureHttp`. */
export function transportAllowed(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'https:' || allowInsecureHttp || isLoopback(url);
}

/**
 * Parses a URL option: https, or http on loopback (or anywhere when `allowInsecureHttp`).
 * Credentials, fragments and other schemes are refused.
 */
export function checkUrl(value: unknown, option: string, envVar: string | undefined, allowInsecureHttp: boolean): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(option, `must be a non-empty URL string, got ${describe(value)}`, envVar);
  }
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new ConfigError(option, `is not a valid URL: ${JSON.stringify(value)}`, envVar);
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw new ConfigError(option, `must be an https URL, got scheme "${url.protocol}"`, envVar);
  }
  if (!transportAllowed(url, allowInsecureHttp)) {
    throw new ConfigError(
      option,
      `must use https: plain http is allowed only for loopback hosts (127.0.0.1, localhost, [::1]) or with allowInsecureHttp: true`,
      envVar,
    );
  }
  if (url.username || url.password) throw new ConfigError(option, 'must not contain credentials', envVar);
  if (url.hash) throw new ConfigError(option, 'must not contain a fragment (#...)', envVar);
  return url;
}

export const TENANT_URL_ENV = 'CYBERARK_TENANT_URL';
export const APP_ID_ENV = 'CYBERARK_APP_ID';

/** The tenant's origin from the `tenantUrl` option, which must be a base URL (no path or query). */
export function tenantOrigin(value: unknown, allowInsecureHttp: boolean): string {
  const url = checkUrl(value, 'tenantUrl', TENANT_URL_ENV, allowInsecureHttp);
  if (url.pathname !== '/' || url.search) {
    throw new ConfigError('tenantUrl', `must be the tenant's base URL with no path or query (e.g. https://abc1234.id.cyberark.cloud), got ${JSON.stringify(value)}`, TENANT_URL_ENV);
  }
  return url.origin;
}

/** Path segments such as the app id: no slashes, spaces or control characters. */
const APP_ID = /^[^\s/\\?#%\x00-\x1f\x7f]+$/;

/** The `appId` option: the Application ID of an OAuth2 Server app, a single path segment. */
export function appIdOf(value: unknown): string {
  if (typeof value !== 'string' || !APP_ID.test(value)) {
    throw new ConfigError('appId', `must be the Application ID of your OAuth2 Server app (no slashes, spaces or special characters), got ${describe(value)} ${typeof value === 'string' ? JSON.stringify(value) : ''}`.trimEnd(), APP_ID_ENV);
  }
  return value;
}

/** Longest delay a Node.js timer (and so AbortSignal.timeout) honours: 2^31 - 1 ms, in whole seconds. */
export const MAX_TIMER_SECONDS = 2_147_483;

/** A number of seconds, `fallback` when unset. */
export function duration(value: unknown, option: string, fallback: number | undefined, { min = 0, exclusiveMin = false, max = Infinity } = {}): number | undefined {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(option, `must be a finite number of seconds, got ${describe(value)}`);
  }
  if (exclusiveMin ? value <= min : value < min) {
    throw new ConfigError(option, `must be ${exclusiveMin ? 'greater than' : 'at least'} ${min} ${min === 1 ? 'second' : 'seconds'}, got ${value}`);
  }
  if (value > max) throw new ConfigError(option, `must be at most ${max} seconds, got ${value}`);
  return value;
}

/** A boolean, false when unset. */
export function bool(value: unknown, option: string): boolean {
  if (value === undefined) return false;
  if (typeof value !== 'boolean') throw new ConfigError(option, `must be true or false, got ${describe(value)}`);
  return value;
}

export function integer(value: unknown, option: string, fallback: number, min: number, max = Number.MAX_SAFE_INTEGER): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(option, `must be an integer ${range}, got ${typeof value === 'number' ? value : describe(value)}`);
  }
  return value;
}

/**
 * An array's entries, a missing one as undefined: `list[i]` on a sparse array would read an
 * index set on Object.prototype.
 */
export function ownList(list: readonly unknown[]): unknown[] {
  return Array.from({ length: list.length }, (_, i) => (Object.hasOwn(list, i) ? list[i] : undefined));
}

/**
 * The own enumerable properties of an options object (arrays among them through ownList), in an
 * object without a prototype: a property set on Object.prototype never counts as an option.
 */
export function ownProperties(value: object): Record<string, unknown> {
  const copy: Record<string, unknown> = Object.create(null);
  for (const key of Object.keys(value)) {
    const item: unknown = (value as Record<string, unknown>)[key];
    copy[key] = Array.isArray(item) ? ownList(item) : item;
  }
  return copy;
}

/** A nested options object (empty when unset) whose keys are all in `known`, own properties only. */
export function plainObject(value: unknown, option: string, known: readonly string[]): Record<string, unknown> {
  if (value === undefined) return Object.create(null) as Record<string, unknown>;
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(option, `must be an object, got ${describe(value)}`);
  }
  for (const key of Object.keys(value)) {
    if (!known.includes(key)) throw new ConfigError(`${option}.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
  return ownProperties(value);
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * The `env` option: `process.env` when unset, own variables only (process.env too inherits from
 * Object.prototype). `null` is a wrong value, not "unset": falling back to process.env would read
 * what the caller meant to exclude.
 */
export function envOf(value: unknown): Env {
  const env = value === undefined ? process.env : value;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new ConfigError('env', `must be an object of environment variables, got ${describe(env)}`);
  }
  return ownProperties(env) as Env;
}

/** An option as given, else its env var, trimmed; an empty or blank env var counts as unset. */
export function optionOrEnv(given: unknown, env: Env, option: string, envVar: string): { value: unknown; fromEnv: boolean } {
  if (given !== undefined) return { value: given, fromEnv: false };
  const raw: unknown = env[envVar];
  if (raw !== undefined && typeof raw !== 'string') {
    throw new ConfigError(option, `must be a string in the environment, got ${describe(raw)}`, envVar);
  }
  if (raw === undefined || raw.trim() === '') return { value: undefined, fromEnv: true };
  return { value: raw.trim(), fromEnv: true };
}

/** The `logger` option, else the process's pino logger at `LOG_LEVEL`. */
export function loggerOf(given: unknown, env: Env): BearerLogger {
  if (given === undefined) return createDefaultLogger(env.LOG_LEVEL);
  if (!isLogger(given)) {
    throw new ConfigError('logger', 'must be a pino logger (an object with debug, info, warn and error methods)');
  }
  return given;
}
