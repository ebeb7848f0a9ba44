/**
 * The `cyberark-bearer` command run as a process, as a user runs it: bundled from source for the
 * test file that asks, with none of the CYBERARK_* variables of the environment the tests run in.
 */
import { execFile } from 'node:child_process';
import { rm } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { build } from 'tsup';
import { afterAll, beforeAll } from 'vitest';

export interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI; `env` adds variables, `input` is piped to stdin; `command` replaces the bundle. */
export type Cli = (args: string[], env?: Record<string, string>, input?: string, command?: string[]) => Promise<Run>;

/**
 * Bundles src/cli/main.ts before the calling file's tests and removes the bundle after them. Each file
 * and run gets its own folder: test files run side by side, and node_modules may be shared.
 */
export function useCli(name: string): Cli {
  // Inside node_modules, so that the bundle finds jose and pino there as dist/cli.js does.
  const outDir = fileURLToPath(new URL(`../../node_modules/.cache/cyberark-bearer-cli/${name}-${process.pid}/`, import.meta.url));
  const baseEnv = { ...process.env };
  for (const variable of Object.keys(baseEnv))
    if (variable.startsWith('CYBERARK_') || variable === 'LOG_LEVEL') delete baseEnv[variable];
  beforeAll(async () => {
    // Bundled from source once, as the build does: a run then costs ~0.2 s instead of tsx's ~0.7 s.
    await build({
      entry: { cli: 'src/cli/main.ts' },
      outDir,
      format: ['esm'],
      platform: 'node',
      target: 'node20',
      config: false,
      silent: true,
      clean: true,
    });
  });
  afterAll(() => rm(outDir, { recursive: true, force: true }));
  return (args, env = {}, input, command = [process.execPath, `${outDir}cli.js`]) =>
    new Promise((resolve) => {
      const child = execFile(
        command[0]!,
        [...command.slice(1), ...args],
        { env: { ...baseEnv, ...env }, timeout: 20_000 },
        (error, stdout, stderr) => {
          resolve({ code: error ? (typeof error.code === 'number' ? error.code : -1) : 0, stdout, stderr });
        },
      );
      child.stdin!.end(input ?? '');
    });
}
