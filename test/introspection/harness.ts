/**
 * An orders API that accepts opaque tokens, built as a user builds it, in front of the test kit's
 * issuer: routes with and without `revocation`, what the client sees, what the issuer counted,
 * what was logged. Requests go over real HTTP with keep-alive, so that thousands stay fast.
 */
import { randomBytes } from 'node:crypto';
import { Agent, request } from 'node:http';
import express from 'express';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions, type IntrospectionOptions } from 'cyberark-bearer';
import { createTestIssuer, randomSecret, type TestIssuer, type TestIssuerOptions } from 'cyberark-bearer/testing';
import { listen } from '../support/http.js';
import { perTest as perTestOf, type PerTest } from '../support/lifecycle.js';
import { captureLogger, type CapturedLogger } from '../support/logger.js';

/** A caller of the API, with the scopes of the kit's default claims added by the tests. */
export const REPORTING = {
  clientId: 'svc-reporting@cyberark.cloud.1234',
  clientSecret: randomSecret(),
  scopes: ['orders.read', 'payments.write'],
  subject: '0a1b2c3d-1111-2222-3333-444455556666',
};
/** The API's own service user, which introspects; its secret needs RFC 6749 §2.3.1's encoding. */
export const ORDERS_API = { clientId: 'svc-orders-api@cyberark.cloud.1234', clientSecret: 'p@ss word+%41:x' };
export const AUDIENCE = 'orders-audience';

export interface Answer {
  readonly status: number;
  readonly headers: Headers;
  readonly body: Record<string, unknown>;
}

export interface IntrospectedApi {
  readonly issuer: TestIssuer;
  readonly auth: BearerAuth;
  readonly log: CapturedLogger;
  /** `GET /orders` (orders.read), `GET /me` (any token), `POST /payments` (payments.write, revocation checked). */
  call(path: '/orders' | '/me' | '/payments', token: string): Promise<Answer>;
  /** `GET /orders` on a kept-alive connection, the body left unread: for thousands of requests. */
  hit(token: string): Promise<{ readonly status: number; readonly retryAfter: string | undefined }>;
  /** An opaque token of REPORTING with the given claims. */
  opaque(claims?: Record<string, unknown>): string;
  /** A JWT of REPORTING with the given claims. */
  jwt(claims?: Record<string, unknown>): string;
  logged(msg: string): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

export interface ApiOptions {
  readonly bearer?: Partial<BearerAuthOptions>;
  readonly issuer?: TestIssuerOptions;
}

/** Options for an API that takes opaque tokens only, introspected as ORDERS_API with `introspection` added. */
export const opaqueOnly = (introspection: IntrospectionOptions = {}): ApiOptions => ({
  bearer: { tokens: 'opaque', introspection: { ...ORDERS_API, ...introspection } },
});

export async function introspectedApi(options: ApiOptions = {}): Promise<IntrospectedApi> {
  const issuer = await createTestIssuer({
    appId: 'orders-api',
    audience: AUDIENCE,
    clients: [REPORTING, ORDERS_API],
    tokenType: 'opaque',
    ...options.issuer,
  });
  const log = captureLogger();
  const built = (build: () => BearerAuth): BearerAuth => {
    try {
      return build();
    } catch (error) {
      void issuer.close();
      throw error;
    }
  };
  const auth = built(() =>
    createBearerAuth({
      ...issuer.options,
      tokens: 'any',
      introspection: { clientId: ORDERS_API.clientId, clientSecret: ORDERS_API.clientSecret },
      logger: log.logger,
      env: {},
      ...options.bearer,
    }),
  );
  const app = express();
  app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
    res.json({ caller: req.auth.clientId });
  });
  app.get('/me', auth.requireToken(), (req, res) => {
    const { source, clientId, subject, scopes, expiresAt, claims, header } = req.auth;
    res.json({ source, clientId, subject, scopes, expiresAt, claims, header });
  });
  app.post('/payments', auth.requireToken('payments.write', { revocation: 'introspect' }), (req, res) => {
    res.json({ caller: req.auth.clientId, source: req.auth.source });
  });
  const server = await listen(app);
  const { url } = server;
  const agent = new Agent({ keepAlive: true, maxSockets: 64 });
  const caller = { unique_name: REPORTING.clientId, sub: REPORTING.subject, scope: 'orders.read payments.write' };
  return {
    issuer,
    auth,
    log,
    async call(path, token) {
      const res = await fetch(`${url}${path}`, {
        method: path === '/payments' ? 'POST' : 'GET',
        headers: { authorization: `Bearer ${token}` },
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? (JSON.parse(text) as Record<string, unknown>) : {} };
    },
    hit: (token) =>
      new Promise((resolve, reject) => {
        const req = request(`${url}/orders`, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
          res.resume();
          res.on('end', () => resolve({ status: res.statusCode!, retryAfter: res.headers['retry-after'] }));
        });
        req.on('error', reject);
        req.end();
      }),
    opaque: (claims) => issuer.mintOpaque({ ...caller, ...claims }),
    jwt: (claims) => issuer.mint({ ...caller, ...claims }),
    logged: (msg) => log.lines.filter((line) => line.msg === msg),
    async close() {
      agent.destroy();
      await server.close();
      await issuer.close();
    },
  };
}

/** For a test file: `start` builds an API, closed after each test, as its fake clock is undone. */
export const perTest = (): PerTest<Parameters<typeof introspectedApi>, IntrospectedApi> => perTestOf(introspectedApi);

/** A random string shaped like the kit's opaque tokens (43 base64url characters). */
export function randomOpaque(): string {
  return randomBytes(32).toString('base64url');
}
