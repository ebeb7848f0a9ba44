/**
 * Something a describe block (or a file) starts once for its tests and closes after them, such
 * as a server: the hooks are registered here, so each block says only what it starts.
 */
import { afterAll, beforeAll } from 'vitest';

/**
 * Registers `beforeAll(start)` and `afterAll(close)` and returns a stand-in for what `start`
 * resolves to: its properties read through to that value once the block's tests run.
 */
export function startedForTests<T extends object>(start: () => Promise<T>, close: (started: T) => Promise<unknown>): T {
  let started: T | undefined;
  beforeAll(async () => {
    started = await start();
  });
  afterAll(async () => {
    if (started) await close(started);
  });
  return new Proxy({} as T, {
    get(_stand, key) {
      if (!started) throw new Error(`read .${String(key)} before the tests of its block started`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}
