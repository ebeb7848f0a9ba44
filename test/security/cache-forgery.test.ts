/**
 * The verified-token cache and the table of checks in progress are keyed by a token's last 40
 * characters, which lie in its signature. A forgery that keeps a genuine token's signature
 * shares that key: it must never borrow the genuine token's outcome, nor lend it its own.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { listen } from '../support/http.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';
import { b64url } from './harness.js';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'cache-forgery', audience: 'orders-api' });
});
afterAll(() => issuer.close());

/** The genuine token with another `sub` and `scope`, and the genuine signature. */
function forge(token: string): string {
  const [header, payload, signature] = token.split('.') as [string, string, string];
  const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
  return `${header}.${b64url(JSON.stringify({ ...claims, sub: 'intruder', scope: 'orders.read admin' }))}.${signature}`;
}

interface Guarded {
  readonly url: string;
  readonly log: CapturedLogger;
  /** Sends one request per token at once; the guard takes them in `order`, in one tick. */
  send(tokens: Record<string, string>, order: readonly string[]): Promise<Record<string, request.Response>>;
  close(): Promise<void>;
}

/**
 * An app whose guard (a fresh auth instance) is entered only once every request has arrived,
 * all in the same tick and in a chosen order: the checks overlap, and which one starts first
 * is decided here, not by the network.
 */
async function startGuarded(options: Partial<BearerAuthOptions> = {}): Promise<Guarded> {
  const log = captureLogger('info');
  const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {}, ...options });
  const guard = auth.requireToken('orders.read');
  let order: readonly string[] = [];
  const arrived = new Map<string, () => void>();
  const app = express();
  app.get(
    '/orders',
    (req, res, next) => {
      arrived.set(req.get('x-name')!, () => guard(req, res, next));
      if (arrived.size < order.length) return;
      for (const name of order) arrived.get(name)!();
      arrived.clear();
    },
    (req, res) => {
      res.json({ sub: req.auth.subject, scopes: req.auth.scopes });
    },
  );
  const { url, close } = await listen(app);
  return {
    url,
    log,
    async send(tokens, chosen) {
      order = chosen;
      const names = Object.keys(tokens);
      const responses = await Promise.all(
        names.map((name) => request(url).get('/orders').set('x-name', name).set('Authorization', `Bearer ${tokens[name]}`)),
      );
      return Object.fromEntries(names.map((name, i) => [name, responses[i]!]));
    },
    close,
  };
}

describe('a forgery sharing a genuine token’s last 40 characters', () => {
  it('the forgery really shares the tail and differs before it', () => {
    const genuine = issuer.mint({ scope: 'orders.read' });
    const forged = forge(genuine);
    expect(forged).not.toBe(genuine);
    expect(forged.slice(-40)).toBe(genuine.slice(-40));
  });

  it.each([
    ['genuine first', ['genuine', 'forged']],
    ['forgery first', ['forged', 'genuine']],
  ] as const)('checked concurrently, %s: genuine → 200, forgery → 401 bad_signature', async (name, order) => {
    const guarded = await startGuarded();
    try {
      const genuine = issuer.mint({ sub: 'svc-1', scope: 'orders.read', jti: name });
      const res = await guarded.send({ genuine, forged: forge(genuine) }, order);
      expect(res.genuine!.status).toBe(200);
      expect(res.genuine!.body).toEqual({ sub: 'svc-1', scopes: ['orders.read'] });
      expect(res.forged!.status).toBe(401);
      expect(res.forged!.body).toEqual({ error: 'invalid_token', error_description: 'invalid signature' });
      expect(guarded.log.lines.filter((l) => l.msg === 'bearer token refused')).toMatchObject([
        { reason: 'bad_signature', status: 401 },
      ]);
    } finally {
      await guarded.close();
    }
  });

  it('after the genuine token is cached, the forgery is still checked and refused', async () => {
    const guarded = await startGuarded();
    try {
      const genuine = issuer.mint({ sub: 'svc-1', scope: 'orders.read', jti: 'cached' });
      for (let i = 0; i < 3; i++) expect((await guarded.send({ genuine }, ['genuine'])).genuine!.status).toBe(200);
      const res = await guarded.send({ genuine, forged: forge(genuine) }, ['forged', 'genuine']);
      expect([res.genuine!.status, res.forged!.status]).toEqual([200, 401]);
      expect(guarded.log.lines.filter((l) => l.msg === 'bearer token refused')).toMatchObject([{ reason: 'bad_signature' }]);
    } finally {
      await guarded.close();
    }
  });
});

describe('a cached token at its exp', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('is served until the millisecond before exp and refused at exactly exp (clockTolerance 0)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const guarded = await startGuarded({ clockTolerance: 0 });
    try {
      const exp = Math.floor(Date.now() / 1000) + 60;
      const token = issuer.mint({ scope: 'orders.read', exp });
      const send = () => guarded.send({ token }, ['token']).then((res) => res.token!);
      for (let i = 0; i < 3; i++) expect((await send()).status).toBe(200); // admitted on the second
      vi.setSystemTime(exp * 1000 - 1);
      expect((await send()).status).toBe(200);
      guarded.log.lines.length = 0;
      vi.setSystemTime(exp * 1000);
      const refused = await send();
      expect(refused.status).toBe(401);
      expect(guarded.log.lines.filter((l) => l.msg === 'bearer token refused')).toMatchObject([{ reason: 'token_expired' }]);
    } finally {
      await guarded.close();
    }
  });
});
