/**
 * Shared test fixtures: Express 4 and 5 apps built the way a user builds them, and a pino
 * logger whose lines the tests can read.
 */
import express5 from 'express';
import express4 from 'express4';
import { pino, type Logger } from 'pino';

export const EXPRESS_VERSIONS = [
  ['Express 5', express5],
  ['Express 4', express4],
] as const;

export type ExpressFactory = typeof express5;

export interface CapturedLogger {
  logger: Logger;
  lines: Array<Record<string, unknown>>;
  /** Everything logged, as one string, to search for leaks. */
  text(): string;
}

export function captureLogger(level = 'debug'): CapturedLogger {
  const raw: string[] = [];
  const lines: Array<Record<string, unknown>> = [];
  const logger = pino({ level }, {
    write(line: string) {
      raw.push(line);
      lines.push(JSON.parse(line) as Record<string, unknown>);
    },
  });
  return { logger, lines, text: () => raw.join('') };
}

/** A logger that drops everything, for tests that do not read logs. */
export const silent = pino({ level: 'silent' });

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
