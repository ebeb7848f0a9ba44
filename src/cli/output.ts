/**
 * What the command reads and writes, and how text reaches a terminal: every character a terminal
 * could act on is escaped, dates are shown with their distance from now.
 */
import { readFileSync } from 'node:fs';
import { isatty } from 'node:tty';
import { pino, type Logger } from 'pino';

/** The process's streams and environment, replaceable as a whole. */
export interface Io {
  out(text: string): void;
  err(text: string): void;
  stdin(): string;
  readonly stdinIsTerminal: boolean;
  readonly env: NodeJS.ProcessEnv;
}

/** C0 and C1 controls, DEL, and the bidi and line-separator characters that reorder or break text. */
const CONTROLS = /[\p{Cc}\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]/gu;

/**
 * `text` with every character a terminal could act on written as \uXXXX: claims and server text
 * cannot move the cursor, retitle the window, reorder a line or start a line of their own. The
 * escape is JSON's, so JSON output stays valid and means the same.
 */
export const printable = (text: string): string =>
  text.replace(CONTROLS, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

/** What reaches the terminal: line feeds between lines stay, any other control is escaped. */
const printableLines = (text: string): string => text.split('\n').map(printable).join('\n');

/** The real streams, through the escaping above. */
export const processIo: Io = {
  out: (text) => process.stdout.write(printableLines(text)),
  err: (text) => process.stderr.write(printableLines(text)),
  stdin: () => readFileSync(0, 'utf8'),
  stdinIsTerminal: isatty(0),
  env: process.env,
};

/** The library's log, on stderr with --verbose, else nothing. */
export function commandLogger(verbose: boolean | undefined, io: Io): Logger {
  return pino({ name: 'cyberark-bearer', level: verbose ? 'debug' : 'silent' }, { write: (line: string) => io.err(line) });
}

/** A library error message without the library's prefix, for a line that names the command. */
export const withoutLibraryPrefix = (message: string): string => message.replace(/^cyberark-bearer: /, '');

/** "1h 4m", "3m 12s", "42s": a distance in time, for people. */
export function formatDuration(seconds: number): string {
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

/** "2030-01-01T00:00:00.000Z (in 1h 4m)": a NumericDate claim, and how far it is from now. */
export function formatEpochSeconds(epochSeconds: number): string {
  // A claim may hold any JSON number; one that no Date can hold is shown as the number.
  if (!(Math.abs(epochSeconds) <= DATE_RANGE_SECONDS)) return `${epochSeconds} (beyond any date)`;
  const delta = epochSeconds - Date.now() / 1000;
  const distance = delta >= 0 ? `in ${formatDuration(delta)}` : `${formatDuration(delta)} ago`;
  return `${new Date(epochSeconds * 1000).toISOString()} (${distance})`;
}
