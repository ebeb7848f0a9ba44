/**
 * What both example servers decide from the environment the same way: a real tenant or the
 * built-in issuer, how a startup failure is told, and how they stop.
 */
import type { Server } from 'node:http';
import { ConfigError, KeysFetchError } from 'cyberark-bearer';
import type { TestIssuer } from 'cyberark-bearer/testing';

/**
 * The CYBERARK_* variables set. The built-in issuer (and its demo secrets) runs only when there is
 * none at all: with some, the library reads them and refuses an incomplete set, as in production.
 */
export const cyberarkVariables = Object.keys(process.env).filter(
  (name) => name.startsWith('CYBERARK_') && process.env[name]?.trim(),
);
export const useTenant = cyberarkVariables.length > 0;

/** The line to print for a startup failure the user can fix, else undefined (a bug: rethrow it). */
export function startupProblem(error: unknown): string | undefined {
  if (!(error instanceof ConfigError || error instanceof KeysFetchError)) return undefined;
  const hint =
    error instanceof ConfigError && useTenant
      ? ` (set: ${cyberarkVariables.join(', ')}; unset them all to run with the built-in issuer)`
      : '';
  return `${error.message}${hint}`;
}

/** Closes the server, its connections and the built-in issuer on Ctrl-C or a stop signal. */
export function stopOnSignals(server: Server, issuer: TestIssuer | undefined): void {
  const stop = () => {
    server.close();
    server.closeAllConnections();
    void issuer?.close();
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}
