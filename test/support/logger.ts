/**
 * Loggers for the tests: a pino logger whose lines a test can read (and search for leaks), and
 * one that drops everything.
 */
import { pino, type Logger, type LoggerOptions } from 'pino';

export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  /** Everything logged, as one string, to search for leaks. */
  text(): string;
}

/** A logger at `level` whose lines are kept; `options` adds pino options such as `redact`. */
export function captureLogger(level = 'debug', options: LoggerOptions = {}): CapturedLogger {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino(
    { ...options, level },
    {
      write(line: string) {
        raw.push(line);
        lines.push(JSON.parse(line) as Record<string, unknown>);
      },
    },
  );
  return { logger, lines, text: () => raw.join('') };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silent = pino({ level: 'silent' });
