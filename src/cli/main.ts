#!/usr/bin/env node
/**
 * The `cyberark-bearer` command: get a token by client credentials, or verify one exactly as the
 * middleware would and say why it is refused. Exit codes: 0 ok, 1 refused or failed, 2 usage.
 */
import { EXIT, helpText, UsageError, type Command, type FlagTable } from './flags.js';
import { printable, processIo, type Io } from './output.js';
import { TOKEN_COMMAND, tokenCommand } from './token-command.js';
import { VERIFY_COMMAND, verifyCommand } from './verify-command.js';

const COMMANDS: Readonly<Record<string, { spec: Command<FlagTable>; run(args: string[], io: Io): Promise<number> }>> = {
  token: { spec: TOKEN_COMMAND, run: tokenCommand },
  verify: { spec: VERIFY_COMMAND, run: verifyCommand },
};

const MAIN_HELP = `Usage: cyberark-bearer <command> [options]

Commands:
${Object.values(COMMANDS)
  .map(({ spec }) => `  ${spec.name.padEnd(16)} ${spec.summary}`)
  .join('\n')}

Run "cyberark-bearer <command> --help" for the options of a command.
Exit codes: 0 success, 1 token refused or not obtained, 2 wrong usage or configuration.
`;

async function main(argv: string[], io: Io): Promise<number> {
  const [name, ...rest] = argv;
  const command = name !== undefined && Object.hasOwn(COMMANDS, name) ? COMMANDS[name] : undefined;
  try {
    if (command) return await command.run(rest, io);
    switch (name) {
      case 'help': {
        const about = rest[0] !== undefined && Object.hasOwn(COMMANDS, rest[0]) ? COMMANDS[rest[0]] : undefined;
        io.out(about ? helpText(about.spec) : MAIN_HELP);
        return EXIT.ok;
      }
      case '-h':
      case '--help':
        io.out(MAIN_HELP);
        return EXIT.ok;
      case undefined:
        io.err(MAIN_HELP);
        return EXIT.usage;
      default:
        throw new UsageError(`unknown command ${JSON.stringify(name)} (commands: ${Object.keys(COMMANDS).join(', ')})`);
    }
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    const help = command ? `cyberark-bearer ${command.spec.name} --help` : 'cyberark-bearer --help';
    io.err(`cyberark-bearer ${printable(error.message)}\nSee "${help}".\n`);
    return EXIT.usage;
  }
}

main(process.argv.slice(2), processIo).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    processIo.err(`cyberark-bearer: unexpected error: ${printable(error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  },
);
