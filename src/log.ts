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

const defaults = new Map<string, BearerLogger>();

/** One pino logger per level for the process, so that many instances share one stream. */
export function createDefaultLogger(level: unknown): BearerLogger {
  if (level !== undefined && typeof level !== 'string') {
    throw new ConfigError('logger', `cannot be created: LOG_LEVEL must be a string, got ${level === null ? 'null' : typeof level}`, 'LOG_LEVEL');
  }
  const wanted = level === undefined || level.trim() === '' ? 'info' : level.trim().toLowerCase();
  if (!(wanted in levels.values) && wanted !== 'silent') {
    throw new ConfigError('logger', `cannot be created: LOG_LEVEL ${JSON.stringify(level)} is not a pino level (${Object.keys(levels.values).join(', ')}, silent)`, 'LOG_LEVEL');
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
