/**
 * A guarded route in front of the test kit's issuer, for the key-server fault scenarios: what a
 * client sees, what the issuer counted, what was logged. Time moves by fake Date (sockets and
 * fetch timeouts stay real) or by short configured windows, never by long sleeps.
 */
import request from 'supertest';
import { afterEach, vi } from 'vitest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type Fault, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { guardedApp } from '../support/apps.js';
import { listen } from '../support/http.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';

/** Each way the key server can fail, and the reason the library logs for it. */
export const FAULTS: ReadonlyArray<[Fault, string]> = [
  ['down', 'network'],
  ['error', 'http_status'],
  ['garbage', 'not_json'],
  ['empty', 'invalid_document'],
  ['huge', 'too_large'],
  ['hang', 'timeout'],
];

export interface Guarded {
  readonly issuer: TestIssuer;
  readonly auth: BearerAuth;
  readonly log: CapturedLogger;
  /** GET /x with `Bearer <token>`. */
  call(token: string): request.Test;
  /** Log lines with this message. */
  logged(msg: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export async function guarded(bearer: Partial<BearerAuthOptions> = {}, issuerOptions: TestIssuerOptions = {}): Promise<Guarded> {
  const issuer = await createTestIssuer(issuerOptions);
  const log = captureLogger();
  const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {}, ...bearer });
  const server = await listen(guardedApp(auth.requireToken()));
  return {
    issuer,
    auth,
    log,
    call: (token) => request(server.url).get('/x').set('Authorization', `Bearer ${token}`),
    logged: (msg) => log.lines.filter((l) => l.msg === msg),
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}

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

/** How often each status occurred, e.g. `{ 200: 50 }`. */
export function statusCounts(responses: ReadonlyArray<{ status: number }>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/**
 * For a test file: `start` builds a guarded route and `fakeClock` fakes Date, and both are undone
 * after each test (routes closed, real time back), whether it passed or not.
 */
export function perTest(): { start: typeof guarded; fakeClock: typeof fakeClock } {
  const open: Guarded[] = [];
  let clock: Clock | undefined;
  afterEach(async () => {
    clock?.restore();
    clock = undefined;
    await Promise.all(open.splice(0).map((g) => g.close()));
  });
  return {
    async start(...args) {
      const g = await guarded(...args);
      open.push(g);
      return g;
    },
    fakeClock: () => (clock = fakeClock()),
  };
}
