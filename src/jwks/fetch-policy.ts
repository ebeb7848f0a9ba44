/**
 * What JWKS fetches and discovery share: the settings of a remote key source, the limits of one
 * fetch, the back-off after failures, and the 503 for requests that cannot wait for keys.
 */
import type { Algorithm, ResolvedConfig } from '../config/options.js';
import { KeysUnavailableError } from '../errors.js';
import type { FetchLimits } from './fetch.js';

export interface RemoteSettings {
  readonly algorithms: readonly Algorithm[];
  readonly keyCache: ResolvedConfig['keyCache'];
  readonly allowInsecureHttp: boolean;
}

/** First back-off after a failed fetch; doubles up to the cooldown. */
const FIRST_BACKOFF_MS = 1000;

/** Wait before the next attempt after `failures` failed fetches in a row: 1 s doubling up to the cooldown. */
export function backoffMs(failures: number, cooldownSeconds: number): number {
  return Math.min(cooldownSeconds * 1000, FIRST_BACKOFF_MS * 2 ** Math.min(failures - 1, 16));
}

/** The 503 for requests that cannot wait for keys, retrying once the next attempt is due. */
export function keysUnavailable(nextAttemptAt: number, now: number, cause: unknown): KeysUnavailableError {
  return new KeysUnavailableError(Math.max(nextAttemptAt - now, FIRST_BACKOFF_MS) / 1000, { cause });
}

/** What bounds one fetch of a key set or a discovery document. */
export function fetchLimits(settings: RemoteSettings): FetchLimits {
  const { keyCache, allowInsecureHttp } = settings;
  return { timeoutMs: keyCache.timeout * 1000, maxBytes: keyCache.maxBytes, allowInsecureHttp };
}
