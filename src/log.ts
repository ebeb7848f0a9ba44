/**
 * The logger contract (pino's) and the default pino logger. What we log are reasons, codes,
 * key ids and timings; never tokens, Authorization headers, secrets or key material.
 */
import { pino, levels } from 'pino';
import { ConfigError } from './errors.js';

type LogFn = (obj: object, msg?: string) => void;

/** The methods we call: any pino logger (or a child, or `req.log` of pino-http) has them. */
export interface BearerLogger {
  debug: LogFn;
  info: LogFn;
  warn: LogFn;
  error: LogFn;
  isLevelEnabled?: (level: string) => boolean;
}

export function isLogger(value: unknown): value is BearerLogger {
  if (typeof value !== 'object' || value === null) return false;
  const v = value as Record<string, unknown>;
  return ['debug', 'info', 'warn', 'error'].every((m) => typeof v[m] === 'function');
}

/** What a logger adds to every line (pino's `bindings()`), or undefined when it cannot show them. */
export function bindingsOf(logger: BearerLogger): unknown {
  const bindings = (logger as { bindings?: unknown }).bindings;
  if (typeof bindings !== 'function') return undefined;
  try {
    return bindings.call(logger) ?? undefined;
  } catch {
    return undefined;
  }
}

/** Past these, bindings are not read through: they count as holding credentials. */
const MAX_DEPTH = 16;
const MAX_NODES = 2000;
/** Shorter secrets are not searched for: anywhere, they match by chance (a method, a header value). */
const SEARCH_FROM = 16;

/**
 * True when bindings could write a credential to every line: an `authorization` or `access_token`
 * key (any case, percent-decoded, at any depth), a string naming `access_token` or starting with
 * `Bearer `, or one of `secrets` (the request's own, as sent and decoded).
 */
export function holdsCredentials(bound: unknown, secrets: readonly string[] = []): boolean {
  const searched = secrets.filter((secret) => secret.length >= SEARCH_FROM);
  let nodes = 0;
  const visit = (value: unknown, depth: number): boolean => {
    if (++nodes > MAX_NODES || depth > MAX_DEPTH) return true;
    if (typeof value === 'string') return stringHolds(value, searched);
    if (typeof value !== 'object' || value === null) return false;
    for (const key of Object.keys(value)) {
      const name = percentDecoded(key).toLowerCase();
      if (name === 'authorization' || name === 'access_token') return true;
      if (visit((value as Record<string, unknown>)[key], depth + 1)) return true;
    }
    return false;
  };
  return visit(bound, 0);
}

function stringHolds(value: string, secrets: readonly string[]): boolean {
  const decoded = percentDecoded(value);
  const lower = decoded.toLowerCase();
  if (lower.includes('access_token') || lower.startsWith('bearer ')) return true;
  return secrets.some((secret) => value.includes(secret) || decoded.includes(secret));
}

/** `%XX` sequences decoded byte by byte: enough to see ASCII names, and never throws. */
function percentDecoded(text: string): string {
  if (!text.includes('%')) return text;
  return text.replace(/%([0-9a-fA-F]{2})/g, (_match, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}

/**
 * A logger made for one request: pino-http's `req.log` (bound `req`, or `reqId` when quiet), or one
 * whose bindings hold credentials. Shared caches must not keep it: it would outlive its request.
 */
export function isRequestLogger(logger: BearerLogger): boolean {
  const bound = bindingsOf(logger);
  if (typeof bound !== 'object' || bound === null) return false;
  return Object.hasOwn(bound, 'req') || Object.hasOwn(bound, 'reqId') || holdsCredentials(bound);
}

const defaults = new Map<string, BearerLogger>();

/** One pino logger per level for the process, so that many instances share one stream. */
export function createDefaultLogger(level: unknown): BearerLogger {
  if (level !== undefined && typeof level !== 'string') {
    throw new ConfigError(
      'logger',
      `cannot be created: LOG_LEVEL must be a string, got ${level === null ? 'null' : typeof level}`,
      'LOG_LEVEL',
    );
  }
  const wanted = level === undefined || level.trim() === '' ? 'info' : level.trim().toLowerCase();
  if (!(wanted in levels.values) && wanted !== 'silent') {
    throw new ConfigError(
      'logger',
      `cannot be created: LOG_LEVEL ${JSON.stringify(level)} is not a pino level (${Object.keys(levels.values).join(', ')}, silent)`,
      'LOG_LEVEL',
    );
  }
  let logger = defaults.get(wanted);
  if (!logger) {
    logger = pino({ name: 'cyberark-bearer', level: wanted });
    defaults.set(wanted, logger);
  }
  return logger;
}

/** Error details fit for a log line: name and code only, since messages can quote input. */
export function errorFacts(error: unknown): { errorName: string; errorCode?: string } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? { errorName: error.name, errorCode: code } : { errorName: error.name };
  }
  return { errorName: typeof error };
}
