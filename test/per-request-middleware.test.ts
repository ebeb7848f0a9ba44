/**
 * requireToken() built inside a handler, once per request, with that request's `req.log` as its
 * logger: a plausible pattern. It must keep the caches of one built at start-up, and nothing
 * shared (the key cache, its fetch-failure lines) may keep a request's logger and its headers.
 */
import express from 'express';
import { pinoHttp } from 'pino-http';
import request from 'supertest';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger, type CapturedLogger } from './support/logger.js';

let issuer: TestIssuer;
beforeEach(async () => {
  issuer = await createTestIssuer();
});
afterEach(async () => {
  vi.useRealTimers();
  await issuer.close();
});

/**
 * pino-http on a captured logger, then a route that builds its guard per request with `req.log`.
 * The answer says whether the guard called next() before returning (a verified-token cache hit)
 * and what the key cache reports.
 */
function perRequestApp(captured: CapturedLogger, options: Partial<BearerAuthOptions> = {}) {
  const app = express();
  app.use(pinoHttp({ logger: captured.logger, autoLogging: false }));
  app.get('/x', (req, res, next) => {
    // LOG_LEVEL silent: the default logger (which takes what a request's logger must not keep) stays quiet here.
    const auth = createBearerAuth({ ...issuer.options, logger: req.log, env: { LOG_LEVEL: 'silent' }, ...options });
    let returned = false;
    auth.requireToken('a')(req, res, (error?: unknown) => {
      if (error) return next(error);
      const status = Object.values(auth.status())[0]!;
      res.json({ synchronous: !returned, fetches: status.fetches, failures: status.consecutiveFailures });
    });
    returned = true;
  });
  return app;
}

describe('requireToken() built per request with req.log', () => {
  it('answers a token seen before from the verified-token cache, as a guard built once does', async () => {
    const app = perRequestApp(captureLogger('info'));
    const token = issuer.mint({ scope: 'a' });
    const answers = [];
    for (let i = 0; i < 4; i++)
      answers.push((await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(200)).body);
    // A token enters the cache the first time it verifies while the cache has room: the second request is a hit.
    expect(answers.map((a: { synchronous: boolean }) => a.synchronous)).toEqual([false, true, true, true]);
    expect(issuer.jwksFetches).toBe(1);
  });

  it('writes no refusal through a logger that carries the Authorization header', async () => {
    const captured = captureLogger('info');
    const app = perRequestApp(captured);
    const token = issuer.mint({ scope: 'b' });
    await request(app).get('/x').set('Authorization', `Bearer ${token}`).expect(403);
    expect(captured.text()).not.toContain(token.split('.')[2]);
  });

  it("never writes a later key-fetch failure with request #1's Authorization header", async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(Date.now());
    const captured = captureLogger('debug');
    const app = perRequestApp(captured);
    const first = issuer.mint({ scope: 'a' });
    await request(app).get('/x').set('Authorization', `Bearer ${first}`).expect(200);

    // The key set is past its lifetime and the key server fails: the next new token waits for a
    // refresh, which fails, and is verified with the stale keys (stale-if-error).
    issuer.setFault('jwks', 'error');
    vi.setSystemTime(Date.now() + 601_000);
    const second = issuer.mint({ scope: 'a' });
    const res = await request(app).get('/x').set('Authorization', `Bearer ${second}`).expect(200);
    expect(res.body).toMatchObject({ fetches: 2, failures: 1 });
    expect(captured.text()).not.toContain(first.split('.')[2]);
  });
});
