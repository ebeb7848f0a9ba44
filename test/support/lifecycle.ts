/**
 * Something a describe block (or a file) starts once for its tests and closes after them, such
 * as a server, or something each test starts and that is closed after it: the hooks are
 * registered here, so each block says only what it starts.
 */
import { afterAll, afterEach, beforeAll, beforeEach } from 'vitest';
import { fakeClock, type Clock } from './time.js';

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
  return standIn(() => started);
}

/** As startedForTests, but started anew before each test and closed after it. */
export function startedForEachTest<T extends object>(start: () => Promise<T>, close: (started: T) => Promise<unknown>): T {
  let started: T | undefined;
  beforeEach(async () => {
    started = await start();
  });
  afterEach(async () => {
    const closing = started;
    started = undefined;
    if (closing) await close(closing);
  });
  return standIn(() => started);
}

/** An object whose properties read through to `current()`, methods bound to it. */
function standIn<T extends object>(current: () => T | undefined): T {
  return new Proxy({} as T, {
    get(_stand, key) {
      const started = current();
      if (!started) throw new Error(`read .${String(key)} before the tests it was started for`);
      const value: unknown = Reflect.get(started, key);
      return typeof value === 'function' ? (value as (...args: unknown[]) => unknown).bind(started) : value;
    },
  });
}

export interface PerTest<A extends unknown[], T> {
  /** Opens with `open(...args)`; what it opened is closed after the test. */
  readonly start: (...args: A) => Promise<T>;
  /** A fake clock (Date only), restored after the test. */
  readonly fakeClock: () => Clock;
}

/**
 * For a test file: what each test opens, and its fake clock, are undone after it (the clock
 * restored, then everything opened closed), whether it passed or not.
 */
export function perTest<A extends unknown[], T extends { close(): Promise<void> }>(
  open: (...args: A) => Promise<T>,
): PerTest<A, T> {
  const opened: T[] = [];
  let clock: Clock | undefined;
  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await Promise.all(opened.splice(0).map((o) => o.close()));
  });
  return {
    async start(...args) {
      const o = await open(...args);
      opened.push(o);
      return o;
    },
    fakeClock: () => (clock = fakeClock()),
  };
}
