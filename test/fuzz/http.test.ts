/**
 * Property tests over real HTTP, against the example orders API (example-server/app.ts) as
 * `npm start` builds it: random and mutated Authorization headers, sometimes two of them.
 * Every answer is 200, 400, 401 or 403 with a documented body; no response and no log line
 * contains the token; nothing is logged at warn or above; no promise is left rejected.
 */
import { Agent, request as httpRequest, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from '../../example-server/app.js';
import { listen, type Listening } from '../support/http.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';
import { authorizationHeader, fuzzParameters, mutatedToken, randomToken, sendable } from './arbitraries.js';

const ERRORS = new Set(['invalid_request', 'invalid_token', 'insufficient_scope', 'unauthorized']);

let unhandled = 0;
const onUnhandled = () => {
  unhandled++;
};

describe('fuzzing the example API over HTTP', () => {
  let issuer: TestIssuer;
  let log: CapturedLogger;
  let server: Listening;
  let port: number;
  let originals: string[];
  const agent = new Agent({ keepAlive: true, maxSockets: 4 });

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api' });
    log = captureLogger('info');
    const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {} });
    server = await listen(createApp(auth, log.logger));
    port = server.port;
    originals = Array.from({ length: 12 }, (_, i) =>
      issuer.mint({ scope: i % 4 === 0 ? 'orders.write' : 'orders.read', sub: `c${i}` }),
    );
    await auth.ready();
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    agent.destroy();
    await server.close();
    await issuer.close();
  });

  function get(
    path: string,
    authorization: string | string[] | undefined,
  ): Promise<{ status: number; headers: IncomingHttpHeaders; text: string }> {
    return new Promise((resolve, reject) => {
      // Node sends an array value as repeated header lines.
      const headers = (authorization === undefined ? {} : { authorization }) as OutgoingHttpHeaders;
      const req = httpRequest({ host: '127.0.0.1', port, path, agent, headers }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode!, headers: res.headers, text: Buffer.concat(chunks).toString('utf8') }),
        );
      });
      req.on('error', reject);
      req.end();
    });
  }

  it('random and mutated Authorization headers: documented answers only, the token never echoed or logged', async () => {
    const token = fc.oneof(
      { weight: 3, arbitrary: mutatedToken(originals).map((m) => m.token) },
      { weight: 1, arbitrary: fc.constantFrom(...originals) },
      { weight: 2, arbitrary: randomToken },
    );
    const header = fc.oneof(
      { weight: 6, arbitrary: authorizationHeader(token).map((h) => (h === undefined ? undefined : sendable(h))) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(authorizationHeader(token), authorizationHeader(token))
          .map(([a, b]) => [sendable(a ?? ''), sendable(b ?? '')]),
      },
    );
    const path = fc.constantFrom('/orders', '/whoami', '/orders?page=2');
    await fc.assert(
      fc.asyncProperty(header, path, async (authorization, target) => {
        const from = log.lines.length;
        const res = await get(target, authorization);
        if (![200, 400, 401, 403].includes(res.status)) throw new Error(`status ${res.status}: ${res.text}`);
        const body = JSON.parse(res.text) as Record<string, unknown>;
        if (res.status !== 200 && !ERRORS.has(body.error as string)) throw new Error(`undocumented body ${res.text}`);
        if (res.status === 200 && Array.isArray(authorization)) throw new Error('accepted two Authorization headers');
        const sent = (Array.isArray(authorization) ? authorization : [authorization ?? '']).map((h) =>
          h.replace(/^\s*\S+\s+/, '').trim(),
        );
        const shown = JSON.stringify([res.headers, res.text, log.lines.slice(from)]);
        for (const t of sent)
          if (t.length >= 24 && shown.includes(t)) throw new Error('the token appears in the response or the log');
      }),
      fuzzParameters('random headers over HTTP', 3_000),
    );
  });

  it('left nothing unhandled and logged nothing at warn or above', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toBe(0);
    expect(log.lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
    expect(log.lines.filter((l) => l.msg === 'bearer token refused').length).toBeGreaterThan(1_000);
  });
});
