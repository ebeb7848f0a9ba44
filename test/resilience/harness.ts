/**
 * A guarded route in front of the test kit's issuer, for the key-server fault scenarios: what a
 * client sees, what the issuer counted, what was logged. Time moves by fake Date (sockets and
 * fetch timeouts stay real) or by short configured windows, never by long sleeps.
 */
import request from 'supertest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { guardedApp } from '../support/apps.js';
import { listen } from '../support/http.js';
import { perTest as perTestOf, type PerTest } from '../support/lifecycle.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';

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

/** How often each status occurred, e.g. `{ 200: 50 }`. */
export function statusCounts(responses: ReadonlyArray<{ status: number }>): Record<number, number> {
  const counts: Record<number, number> = {};
  for (const r of responses) counts[r.status] = (counts[r.status] ?? 0) + 1;
  return counts;
}

/** For a test file: `start` builds a guarded route, closed after each test, as its fake clock is undone. */
export const perTest = (): PerTest<Parameters<typeof guarded>, Guarded> => perTestOf(guarded);
