/**
 * One table of flags per command, from which the parser's options, the help text and the advice
 * for a configuration mistake are all derived: a flag cannot be parsed yet missing from the help.
 */
import { parseArgs } from 'node:util';
import { ConfigError } from '../errors.js';
import { withoutLibraryPrefix } from './output.js';

export const EXIT = { ok: 0, refused: 1, usage: 2 } as const;

/** A mistake in the command line; printed with a pointer to the command's help. */
export class UsageError extends Error {}

export interface Flag {
  readonly type: 'string' | 'boolean';
  /** May be given several times; the values come as a list. */
  readonly multiple?: boolean;
  readonly short?: string;
  /** How the help shows the value, e.g. `<url>`. */
  readonly value?: string;
  /** The help text; further entries are lines of their own below the first. */
  readonly help: string | readonly string[];
  /** The environment variable the option falls back to, shown in the help. */
  readonly env?: string;
  /** The library option the flag sets, so that a ConfigError about it names the flag. */
  readonly option?: string | readonly string[];
}

export type FlagTable = Readonly<Record<string, Flag>>;

export interface Command<T extends FlagTable> {
  readonly name: string;
  /** One line for the list of commands. */
  readonly summary: string;
  /** What follows the command name in the usage line. */
  readonly usage: string;
  /** The paragraph between the usage line and the options. */
  readonly about: string;
  readonly flags: T;
  /** The text after the options: exit codes, examples. */
  readonly epilogue: string;
}

/** The flags that every command has. */
export const HELP_FLAG = { type: 'boolean', short: 'h', help: 'Show this help' } as const satisfies Flag;
export const TENANT_URL_FLAG = {
  type: 'string',
  value: '<url>',
  help: 'Tenant base URL',
  env: 'CYBERARK_TENANT_URL',
  option: 'tenantUrl',
} as const satisfies Flag;
export const APP_ID_FLAG = {
  type: 'string',
  value: '<id>',
  help: 'Application ID of the OAuth2 Server app',
  env: 'CYBERARK_APP_ID',
  option: 'appId',
} as const satisfies Flag;

/** Where the help columns start: the description, then the environment variable. */
const HELP_COLUMN = 27;
const ENV_COLUMN = 68;

export function helpText(command: Command<FlagTable>): string {
  const rows = Object.entries(command.flags).flatMap(([name, flag]) => {
    const left = `  ${flag.short ? `-${flag.short}, ` : ''}--${name}${flag.value ? ` ${flag.value}` : ''}`;
    const [first = '', ...more] = typeof flag.help === 'string' ? [flag.help] : flag.help;
    const line = `${left.padEnd(HELP_COLUMN - 1)} ${flag.env ? `${first.padEnd(ENV_COLUMN - HELP_COLUMN - 1)} ${flag.env}` : first}`;
    return [line, ...more.map((text) => `${' '.repeat(HELP_COLUMN)}${text}`)];
  });
  return `Usage: cyberark-bearer ${command.name} ${command.usage}

${command.about}

Options (each falls back to its environment variable):
${rows.join('\n')}

${command.epilogue}`;
}

/** The table as node:util parseArgs options, keeping each flag's type for the parsed values. */
type ParserOptions<T extends FlagTable> = {
  -readonly [K in keyof T]: { type: T[K]['type']; multiple: T[K]['multiple'] extends true ? true : false; short?: string };
};

function parserOptions<T extends FlagTable>(flags: T): ParserOptions<T> {
  const entries = Object.entries(flags).map(([name, { type, multiple = false, short }]) => [
    name,
    { type, multiple, ...(short !== undefined && { short }) },
  ]);
  return Object.fromEntries(entries) as ParserOptions<T>;
}

/** The command's flags and positional arguments. Throws a UsageError. */
export function parseCommandLine<T extends FlagTable>(args: string[], command: Command<T>) {
  try {
    return parseArgs({ args, options: parserOptions(command.flags), allowPositionals: true, strict: true });
  } catch (error) {
    const message = (error as Error).message;
    if (/--client-secret\b/.test(message) && !/--client-secret-stdin/.test(message)) {
      throw new UsageError(
        `${command.name}: there is no --client-secret: pass the secret in CYBERARK_CLIENT_SECRET or on stdin with --client-secret-stdin (command-line arguments are visible to other users)`,
      );
    }
    throw new UsageError(`${command.name}: ${message}`);
  }
}

/** A ConfigError as advice about the command line: the flag that sets the option, if one does. */
export function configProblem(error: ConfigError, command: Command<FlagTable>): UsageError {
  const flag = Object.entries(command.flags).find(([, f]) => [f.option ?? []].flat().includes(error.option))?.[0];
  return new UsageError(`${command.name}: ${withoutLibraryPrefix(error.message)}${flag ? ` (command line: --${flag})` : ''}`);
}

/** A flag's number of seconds, or undefined when it is not given. Throws a UsageError. */
export function parseSeconds(value: string | undefined, flag: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n))
    throw new UsageError(`${flag} takes a number of seconds, got ${JSON.stringify(value)}`);
  return n;
}

/** Scopes from repeated flags, each of which may hold several separated by spaces. */
export function splitScopes(values: readonly string[] | undefined): string[] | undefined {
  if (values === undefined) return undefined;
  return values.flatMap((v) => v.split(' ')).filter((s) => s !== '');
}
