/**
 * The target of the attack suite: an orders API built as a user builds it, listening on
 * 127.0.0.1 and trusting the test kit's issuer, plus ways to send what a client library would
 * refuse to send (raw header bytes, repeated headers) and to check a refusal completely.
 */
import { createServer, type ServerOptions } from 'node:http';
import express from 'express';
import request from 'supertest';
import { expect } from 'vitest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { listen, rawHead, rawRequest, type RawResponse } from '../support/http.js';
import { startedForTests } from '../support/lifecycle.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';

export const AUDIENCE = 'https://api.example.com/orders';

export interface Target {
  readonly issuer: TestIssuer;
  readonly auth: BearerAuth;
  readonly url: string;
  readonly log: CapturedLogger;
  /** GET `path` with the given Authorization header (none when undefined). Clears the log first. */
  get(path: string, authorization?: string): request.Test;
  /** GET `path` (`/orders` by default) with `Authorization: Bearer <token>`. Clears the log first. */
  bearer(token: string, path?: string): request.Test;
  /**
   * GET `path` (`/orders` by default) with these header lines, in order, sent as raw bytes: what
   * an HTTP client refuses to send (see rawHead). Clears the log first.
   */
  raw(headers: Parameters<typeof rawHead>[1], path?: string): Promise<RawResponse>;
  /** A valid token for the orders API; claims and header as in `issuer.mint`. */
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>, key?: Parameters<TestIssuer['mint']>[2]): string;
  close(): Promise<void>;
}

export interface TargetOptions {
  readonly bearer?: Partial<BearerAuthOptions>;
  readonly issuer?: TestIssuerOptions;
  /** Options of the HTTP server, e.g. a larger `maxHeaderSize`. */
  readonly server?: ServerOptions;
}

/** Routes: `GET /orders` needs `orders.read`, `GET /me` any valid token, `POST /orders` form bodies. */
export async function startTarget(options: TargetOptions = {}): Promise<Target> {
  const issuer = await createTestIssuer({ appId: 'orders-api', audience: AUDIENCE, ...options.issuer });
  const log = captureLogger('info');
  const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {}, ...options.bearer });
  const app = express();
  app.use(express.urlencoded({ extended: false }));
  app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
    res.json({ caller: req.auth.clientId, scopes: req.auth.scopes });
  });
  app.post('/orders', auth.requireToken('orders.read'), (_req, res) => {
    res.json({ ok: true });
  });
  app.get('/me', auth.requireToken(), (req, res) => {
    res.json({ subject: req.auth.subject });
  });
  const server = await listen(createServer(options.server ?? {}, app));
  const { url } = server;
  const get = (path: string, authorization?: string): request.Test => {
    log.lines.length = 0;
    const req = request(url).get(path);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };
  return {
    issuer,
    auth,
    url,
    log,
    get,
    bearer: (token, path = '/orders') => get(path, `Bearer ${token}`),
    raw(headers, path = '/orders') {
      log.lines.length = 0;
      return rawRequest(url, rawHead(path, headers));
    },
    mint: (claims = {}, header = {}, key) => issuer.mint({ scope: 'orders.read', ...claims }, header, key),
    async close() {
      await server.close();
      await issuer.close();
    },
  };
}

/** A target with a valid token for it, and the token's three segments. */
export interface TargetWithToken extends Target {
  readonly token: string;
  readonly parts: [string, string, string];
}

/** Starts a target and mints a token for it; `warm` has the token accepted once, so that the keys are cached. */
async function startWithToken(options: TargetOptions, warm: boolean): Promise<TargetWithToken> {
  const t = await startTarget(options);
  const token = t.mint();
  if (warm) await t.bearer(token).expect(200);
  return { ...t, token, parts: token.split('.') as [string, string, string] };
}

/**
 * For a describe block: a target started before its tests and closed after them, with a token
 * minted for it. `options` may be a function, read when the target starts (e.g. a forge's options).
 */
export function useTarget(options: TargetOptions | (() => TargetOptions) = {}): TargetWithToken {
  return startedForTests(
    () => startWithToken(typeof options === 'function' ? options() : options, false),
    (t) => t.close(),
  );
}

/** As `useTarget`, the token already accepted once, so that the target's keys are cached. */
export function useWarmTarget(options: TargetOptions = {}): TargetWithToken {
  return startedForTests(
    () => startWithToken(options, true),
    (t) => t.close(),
  );
}

export interface Refusal {
  readonly status: 400 | 401 | 403;
  readonly error: 'invalid_request' | 'invalid_token' | 'insufficient_scope' | 'unauthorized';
  readonly description: string;
  /** The reason code of the log line, when the refusal came from our middleware. */
  readonly reason?: string;
}

/**
 * Asserts a complete RFC 6750 refusal: status, JSON body, `Cache-Control: no-store` and the
 * challenge; and, when `target` is given, that the middleware logged it once with `reason`.
 */
export function expectRefusal(
  res: { status: number; headers: Record<string, string | string[] | undefined>; body: unknown },
  expected: Refusal,
  target?: Target,
): void {
  const challenge =
    expected.error === 'unauthorized'
      ? 'Bearer realm="api"'
      : `Bearer realm="api", error="${expected.error}", error_description="${expected.description}"${expected.error === 'insufficient_scope' ? ', scope="orders.read"' : ''}`;
  expect({
    status: res.status,
    body: res.body,
    challenge: res.headers['www-authenticate'],
    cacheControl: res.headers['cache-control'],
  }).toEqual({
    status: expected.status,
    body: {
      error: expected.error,
      error_description: expected.description,
      ...(expected.error === 'insufficient_scope' ? { scope: 'orders.read' } : {}),
    },
    challenge,
    cacheControl: 'no-store',
  });
  if (target && expected.reason) {
    const refusals = target.log.lines.filter((l) => l.msg === 'bearer token refused');
    expect(refusals).toHaveLength(1);
    expect(refusals[0]).toMatchObject({ reason: expected.reason, status: expected.status });
  }
}

/** Shorthands for the refusals the suite expects most. */
export const invalidToken = (description: string, reason: string): Refusal => ({
  status: 401,
  error: 'invalid_token',
  description,
  reason,
});
export const invalidRequest = (description: string, reason: string): Refusal => ({
  status: 400,
  error: 'invalid_request',
  description,
  reason,
});
export const MALFORMED_HEADER = invalidRequest('malformed Authorization header', 'malformed_request');
export const SEVERAL_TOKENS = invalidRequest('more than one bearer token in the request', 'several_tokens');
export const NO_CREDENTIALS: Refusal = {
  status: 401,
  error: 'unauthorized',
  description: 'bearer token required',
  reason: 'no_credentials',
};
export const INSUFFICIENT_SCOPE: Refusal = {
  status: 403,
  error: 'insufficient_scope',
  description: 'insufficient scope',
  reason: 'insufficient_scope',
};

/** Flips one bit of the character at `index` within the base64url alphabet. */
export function flipChar(text: string, index: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const i = index < 0 ? text.length + index : index;
  const value = alphabet.indexOf(text[i]!);
  return text.slice(0, i) + alphabet[value ^ 0b100000] + text.slice(i + 1);
}

/** A table's header lines with `{token}` in their values replaced by `token`, which exists only once the target has started. */
export const withToken = (headers: ReadonlyArray<readonly [string, string]>, token: string) =>
  headers.map(([name, value]) => [name, value.replace('{token}', token)] as const);

export const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');
