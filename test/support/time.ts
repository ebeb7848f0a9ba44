/**
 * Time in tests: a fake clock that moves Date only, and waiting, for the few tests that must let
 * real time pass (a key cache's short max age, a request that has not arrived yet).
 */
import { vi } from 'vitest';

export const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export interface Clock {
  advance(seconds: number): void;
  restore(): void;
}

/** Fakes Date only (timers, sockets and AbortSignal.timeout stay real); returns a clock to move. */
export function fakeClock(): Clock {
  vi.useFakeTimers({ toFake: ['Date'] });
  vi.setSystemTime(Date.now());
  return {
    advance: (seconds) => vi.setSystemTime(Date.now() + seconds * 1000),
    restore: () => vi.useRealTimers(),
  };
}
