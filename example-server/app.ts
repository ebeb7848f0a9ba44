/**
 * The example orders API: one public route and three guarded by cyberark-bearer.
 * Built as a function so the tests drive exactly the app that `npm start` serves.
 */
import express, { type ErrorRequestHandler } from 'express';
import { pinoHttp } from 'pino-http';
import type { Logger } from 'pino';
import type { BearerAuth } from 'cyberark-bearer';

interface Order {
  id: number;
  item: string;
  quantity: number;
  createdBy: string | undefined;
}

export function createApp(auth: BearerAuth, logger: Logger): express.Express {
  const app = express();
  const orders: Order[] = [{ id: 1, item: 'widget', quantity: 3, createdBy: 'seed' }];

  // Each request gets `req.log` and a "request completed" line; cyberark-bearer logs its refusals
  // through `req.log`. pino-http binds the request to all of them: log it without credentials.
  app.use(pinoHttp({ logger, serializers: { req: withoutCredentials } }));
  app.use(express.json({ limit: '16kb' }));

  // Public, so counts and ages only: the JWKS URL, key ids and fetch errors are for the logs.
  app.get('/health', (_req, res) => {
    const sources = Object.values(auth.status());
    const ready = sources.every((source) => source.usable);
    const keySets = sources.map((source) => ({
      usable: source.usable,
      keys: source.kids.length,
      ageSeconds: source.age === undefined ? null : Math.floor(source.age),
      consecutiveFailures: source.consecutiveFailures,
    }));
    res.status(ready ? 200 : 503).json({ status: ready ? 'ok' : 'keys unavailable', keySets });
  });

  app.get('/orders', auth.requireToken('orders.read'), (_req, res) => {
    res.json({ orders });
  });

  app.post('/orders', auth.requireToken('orders.write'), (req, res) => {
    const { item, quantity = 1 } = (req.body ?? {}) as { item?: unknown; quantity?: unknown };
    if (typeof item !== 'string' || item === '' || typeof quantity !== 'number' || !Number.isInteger(quantity) || quantity < 1) {
      res
        .status(400)
        .json({ error: 'invalid_order', error_description: 'send {"item": "<name>", "quantity": <positive integer>}' });
      return;
    }
    const order: Order = { id: orders.length + 1, item, quantity, createdBy: req.auth.clientId };
    orders.push(order);
    res.status(201).json(order);
  });

  app.get('/whoami', auth.requireToken(), (req, res) => {
    const { clientId, subject, scopes, expiresAt, claims } = req.auth;
    res.json({
      clientId,
      subject,
      scopes,
      expiresAt: new Date(expiresAt * 1000).toISOString(),
      issuer: claims.iss,
      appId: claims.app_id,
    });
  });

  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });

  const onError: ErrorRequestHandler = (error: { status?: number; type?: string }, req, res, _next) => {
    const status = typeof error.status === 'number' && error.status >= 400 && error.status < 500 ? error.status : 500;
    if (status === 500) req.log.error({ err: error }, 'request failed');
    res.status(status).json({ error: status === 500 ? 'server_error' : 'bad_request' });
  };
  app.use(onError);
  return app;
}

/** What pino-http's request serializer hands on (pino-std-serializers' shape). */
interface LoggedRequest {
  id?: unknown;
  method?: string | undefined;
  url?: string | undefined;
  headers?: Record<string, unknown>;
  remoteAddress?: string | undefined;
  remotePort?: number | undefined;
}

/**
 * The logged request, named field by field so that nothing else slips in: no Authorization or
 * Cookie header, and no query, neither in `url` nor as pino-http's parsed `query` object.
 */
function withoutCredentials(req: LoggedRequest): LoggedRequest {
  const { authorization: _authorization, 'proxy-authorization': _proxy, cookie: _cookie, ...headers } = req.headers ?? {};
  return {
    id: req.id,
    method: req.method,
    url: req.url?.split('?')[0],
    headers,
    remoteAddress: req.remoteAddress,
    remotePort: req.remotePort,
  };
}
