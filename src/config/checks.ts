/**
 * The checks every set of options shares (the middleware's and the token client's): each throws a
 * ConfigError naming the option, and its env var when there is one, and describes a wrong value
 * by its type, never by its content (it may be a secret).
 */
import { ConfigError } from '../errors.js';
import { transportAllowed } from '../http/transport.js';
import { createDefaultLogger, isLogger, type BearerLogger } from '../log.js';

/** One row of an options table: where the option is also read from, its default, its bounds. */
export interface OptionSpec {
  /** Environment variable read when the option is not given (trimmed; blank counts as unset). */
  readonly env?: string;
  /** The value when neither the option nor its env var is set. */
  readonly default?: unknown;
  /** A number option counts seconds, or is an integer. */
  readonly integer?: true;
  /** Least value allowed. Default 0. */
  readonly min?: number;
  /** When set, values must be greater than this one. */
  readonly greaterThan?: number;
  /** Greatest value allowed. */
  readonly max?: number;
}

export type NumberSpec = OptionSpec & { readonly default?: number };

/** One option as read: the value given, else the value of its env var. */
export interface Given<S extends OptionSpec = OptionSpec> {
  readonly option: string;
  readonly value: unknown;
  readonly fromEnv: boolean;
  readonly spec: S;
}

export type Env = Readonly<Record<string, string | undefined>>;

/** A wrong value in words that never repeat it: `null`, `an array`, `a string`, `number`… */
export function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return value === '' ? 'an empty string' : 'a string';
  return typeof value;
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
  const copy = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const item: unknown = (value as Record<string, unknown>)[key];
    copy[key] = Array.isArray(item) ? ownList(item) : item;
  }
  return copy;
}

/** The options object, own properties only, every name in `table`; `of` names the caller in the refusal. */
export function ownOptions(given: unknown, table: Readonly<Record<string, OptionSpec>>, of: string): Record<string, unknown> {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) {
    throw new ConfigError('options', `must be an object, got ${kindOf(given)}`);
  }
  const options = ownProperties(given);
  for (const key of Object.keys(options)) {
    if (!Object.hasOwn(table, key)) throw new ConfigError(key, `is not an option of ${of} (check its spelling)`);
  }
  return options;
}

/**
 * The `env` option: `process.env` when unset, own variables only (process.env too inherits from
 * Object.prototype). `null` is a wrong value, not "unset": falling back to process.env would read
 * what the caller meant to exclude.
 */
export function envOf(value: unknown): Env {
  const env = value === undefined ? process.env : value;
  if (typeof env !== 'object' || env === null || Array.isArray(env)) {
    throw new ConfigError('env', `must be an object of environment variables, got ${kindOf(env)}`);
  }
  return ownProperties(env) as Env;
}

/** Reads one option as its table says. */
export type Reader<T extends Readonly<Record<string, OptionSpec>>> = <K extends keyof T & string>(option: K) => Given<T[K]>;

/** Reads options as `table` says: the option as given, else its env var, trimmed (blank counts as unset). */
export function reader<T extends Readonly<Record<string, OptionSpec>>>(
  options: Record<string, unknown>,
  env: Env,
  table: T,
): Reader<T> {
  return <K extends keyof T & string>(option: K): Given<T[K]> => {
    // A key of the table, never undefined.
    const spec = table[option] as T[K];
    const given = options[option];
    if (given !== undefined || spec.env === undefined) return { option, value: given, fromEnv: false, spec };
    const raw: unknown = env[spec.env];
    if (raw !== undefined && typeof raw !== 'string') {
      throw new ConfigError(option, `must be a string in the environment, got ${kindOf(raw)}`, spec.env);
    }
    return { option, value: raw === undefined || raw.trim() === '' ? undefined : raw.trim(), fromEnv: true, spec };
  };
}

/** A boolean, its default when unset. */
export function flag({ option, value, spec }: Given<OptionSpec & { readonly default: boolean }>): boolean {
  if (value === undefined) return spec.default;
  if (typeof value !== 'boolean') throw new ConfigError(option, `must be true or false, got ${kindOf(value)}`);
  return value;
}

/** Longest delay a Node.js timer (and so AbortSignal.timeout) honours: 2^31 - 1 ms, in whole seconds. */
export const MAX_TIMER_SECONDS = 2_147_483;

/** A number of seconds, or an integer, within the bounds of its spec; its default when unset. */
export function number(given: Given<NumberSpec & { readonly default: number }>): number;
export function number(given: Given<NumberSpec>): number | undefined;
export function number({ option, value, spec }: Given<NumberSpec>): number | undefined {
  if (value === undefined) return spec.default;
  return spec.integer ? integer(value, option, spec) : seconds(value, option, spec);
}

function seconds(value: unknown, option: string, { min = 0, greaterThan, max = Infinity }: NumberSpec): number {
  if (typeof value !== 'number' || !Number.isFinite(value)) {
    throw new ConfigError(option, `must be a finite number of seconds, got ${kindOf(value)}`);
  }
  const bound = greaterThan ?? min;
  if (greaterThan === undefined ? value < min : value <= greaterThan) {
    throw new ConfigError(
      option,
      `must be ${greaterThan === undefined ? 'at least' : 'greater than'} ${bound} ${bound === 1 ? 'second' : 'seconds'}, got ${value}`,
    );
  }
  if (value > max) throw new ConfigError(option, `must be at most ${max} seconds, got ${value}`);
  return value;
}

function integer(value: unknown, option: string, { min = 0, max = Number.MAX_SAFE_INTEGER }: NumberSpec): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    const range = max === Number.MAX_SAFE_INTEGER ? `of at least ${min}` : `from ${min} to ${max}`;
    throw new ConfigError(option, `must be an integer ${range}, got ${typeof value === 'number' ? value : kindOf(value)}`);
  }
  return value;
}

/**
 * A nested object of numbers (`keyCache`, `retry`): own properties only, every key in `table`,
 * each number checked by its row; the frozen result holds every key, defaulted.
 */
export function numbers<T extends Readonly<Record<string, NumberSpec & { readonly default: number }>>>(
  { option, value }: Given,
  table: T,
): Readonly<{ [K in keyof T]: number }> {
  const known = Object.keys(table);
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ConfigError(option, `must be an object, got ${kindOf(value)}`);
  }
  const given = value === undefined ? (Object.create(null) as Record<string, unknown>) : ownProperties(value);
  for (const key of Object.keys(given)) {
    if (!known.includes(key)) throw new ConfigError(`${option}.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
  const result: Record<string, number> = {};
  for (const [key, spec] of Object.entries(table))
    result[key] = number({ option: `${option}.${key}`, value: given[key], fromEnv: false, spec });
  return Object.freeze(result) as { [K in keyof T]: number };
}

/**
 * Parses a URL option: https, or http on loopback (or anywhere when `allowInsecureHttp`).
 * Credentials, fragments and other schemes are refused.
 */
export function checkUrl(value: unknown, option: string, envVar: string | undefined, allowInsecureHttp: boolean): URL {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new ConfigError(option, `must be a non-empty URL string, got ${kindOf(value)}`, envVar);
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

/** The tenant's origin from the `tenantUrl` option, which must be a base URL (no path or query). */
export function tenantOrigin({ option, value, spec }: Given, allowInsecureHttp: boolean): string {
  const url = checkUrl(value, option, spec.env, allowInsecureHttp);
  if (url.pathname !== '/' || url.search) {
    throw new ConfigError(
      option,
      `must be the tenant's base URL with no path or query (e.g. https://abc1234.id.cyberark.cloud), got ${JSON.stringify(value)}`,
      spec.env,
    );
  }
  return url.origin;
}

/** Ids and secrets go into a URL path, a form or a header: none may hold a control character (C0 or DEL). */
export function hasControlCharacter(value: string): boolean {
  for (let i = 0; i < value.length; i++) {
    const code = value.charCodeAt(i);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Path segments such as the app id: no slashes, spaces or other characters with a meaning in a URL. */
const APP_ID = /^[^\s/\\?#%]+$/;

/** The `appId` option: the Application ID of an OAuth2 Server app, a single path segment. */
export function appIdOf({ option, value, spec }: Given): string {
  if (typeof value !== 'string' || !APP_ID.test(value) || hasControlCharacter(value)) {
    const shown = typeof value === 'string' ? ` ${JSON.stringify(value)}` : '';
    throw new ConfigError(
      option,
      `must be the Application ID of your OAuth2 Server app (no slashes, spaces or special characters), got ${kindOf(value)}${shown}`,
      spec.env,
    );
  }
  return value;
}

/** The `logger` option, else the process's pino logger at `LOG_LEVEL`. */
export function loggerOf({ option, value }: Given, env: Env): BearerLogger {
  if (value === undefined) return createDefaultLogger(env.LOG_LEVEL);
  if (!isLogger(value)) {
    throw new ConfigError(option, 'must be a pino logger (an object with debug, info, warn and error methods)');
  }
  return value;
}

/** A client id (a service user's login): a non-empty string without control characters. */
export function clientIdOf({ option, value, spec }: Given, what: string): string {
  if (value === undefined) throw new ConfigError(option, `is required: ${what}`, spec.env);
  if (typeof value !== 'string' || value === '' || hasControlCharacter(value)) {
    throw new ConfigError(option, `must be a non-empty string without control characters, got ${kindOf(value)}`, spec.env);
  }
  return value;
}

/**
 * A client secret, as given or from `envVar`: read as it is, not trimmed (a secret may start or
 * end with a space), and described by its type only, never by its content.
 */
export function clientSecretOf(given: unknown, env: Env, option: string, envVar: string): string {
  const secret = given !== undefined ? given : env[envVar] || undefined;
  if (secret === undefined) throw new ConfigError(option, "is required: the service user's password", envVar);
  if (typeof secret !== 'string' || secret === '' || hasControlCharacter(secret)) {
    throw new ConfigError(option, `must be a non-empty string without control characters, got ${kindOf(secret)}`, envVar);
  }
  return secret;
}
