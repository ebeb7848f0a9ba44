/**
 * An orders API trusting several CyberArk apps at once: each a test-kit issuer on its own port (its
 * own tenant), with its own JWKS and audience, behind one `createBearerAuth({ issuers })`.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import request from 'supertest';
import { createBearerAuth, type BearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger, type CapturedLogger } from '../support/logger.js';

/** Three apps: two CyberArk tenants and a third app trusted through discovery. */
export interface Tenants {
  /** `orders-api` on one tenant, audience `orders`. */
  readonly orders: TestIssuer;
  /** `partner-gw` on another tenant, audience `partner-orders`. */
  readonly partner: TestIssuer;
  /** `staging-app` on a third, found by discovery, audience `orders`. */
  readonly staging: TestIssuer;
  close(): Promise<void>;
}

export async function startTenants(): Promise<Tenants> {
  const [orders, partner, staging] = await Promise.all([
    createTestIssuer({ appId: 'orders-api', audience: 'orders' }),
    createTestIssuer({ appId: 'partner-gw', audience: 'partner-orders' }),
    createTestIssuer({ appId: 'staging-app', audience: 'orders' }),
  ]);
  return {
    orders,
    partner,
    staging,
    close: async () => {
      await Promise.all([orders.close(), partner.close(), staging.close()]);
    },
  };
}

/** The `issuers` of the example, on the test kit's tenants. */
export function issuersOf({ orders, partner, staging }: Tenants): NonNullable<BearerAuthOptions['issuers']> {
  return [
    { tenantUrl: orders.url, appId: orders.appId, audience: 'orders' },
    { tenantUrl: partner.url, appId: partner.appId, audience: 'partner-orders' },
    { issuer: staging.issuer, audience: 'orders' },
  ];
}

export interface Api {
  readonly auth: BearerAuth;
  readonly log: CapturedLogger;
  /** GET /orders (needs `orders.read`) with `Bearer <token>`; clears the log first. */
  get(token: string, path?: string): request.Test;
  /** The refusals logged since the last request. */
  refusals(): Array<Record<string, unknown>>;
  close(): Promise<void>;
}

/** Routes: `GET /orders` needs `orders.read` and answers which issuer admitted the token; `GET /me` any valid token. */
export async function startApi(options: BearerAuthOptions): Promise<Api> {
  const log = captureLogger('info');
  const auth = createBearerAuth({ logger: log.logger, env: {}, ...options });
  const app = express();
  app.get('/orders', auth.requireToken('orders.read'), (req, res) => {
    res.json({ issuer: req.auth.issuer, caller: req.auth.clientId, scopes: req.auth.scopes });
  });
  app.get('/me', auth.requireToken(), (req, res) => {
    res.json({ issuer: req.auth.issuer });
  });
  const server: Server = createServer(app);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    auth,
    log,
    get(token, path = '/orders') {
      log.lines.length = 0;
      return request(url).get(path).set('Authorization', `Bearer ${token}`);
    },
    refusals: () => log.lines.filter((l) => l.msg === 'bearer token refused'),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
