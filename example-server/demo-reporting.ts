/**
 * The second service of `npm run demo`: a reporting service that calls the orders API with a
 * client-credentials token from cyberark-bearer/client, as any calling service would.
 */
import express from 'express';
import type { ClientCredentials } from 'cyberark-bearer/client';

interface OrdersPage {
  orders: Array<{ item: string; quantity: number }>;
}

/** `GET /report` reads the orders; `POST /restock` tries to create one (it needs orders.write). */
export function createReportingApp(orders: ClientCredentials, ordersApi: string): express.Express {
  const app = express();

  app.get('/report', async (_req, res, next) => {
    try {
      // The client adds Authorization: Bearer, with a cached token.
      const answer = await orders.fetch(`${ordersApi}/orders`);
      if (!answer.ok) {
        res
          .status(502)
          .json({ error: 'orders_api_refused', status: answer.status, challenge: answer.headers.get('www-authenticate') });
        return;
      }
      const page = (await answer.json()) as OrdersPage;
      res.json({ orders: page.orders.length, items: page.orders.map((o) => `${o.item} x${o.quantity}`) });
    } catch (error) {
      next(error);
    }
  });

  app.post('/restock', async (_req, res, next) => {
    try {
      const answer = await orders.fetch(`${ordersApi}/orders`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ item: 'widget', quantity: 10 }),
      });
      // Passed through as they are, so the demo can show the orders API's refusal.
      res
        .status(answer.status)
        .json({ status: answer.status, challenge: answer.headers.get('www-authenticate'), body: await answer.json() });
    } catch (error) {
      next(error);
    }
  });

  return app;
}
