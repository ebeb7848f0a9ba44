/**
 * `npm run demo`: the built-in issuer, the orders API and a reporting service that calls it with
 * cyberark-bearer/client, all on 127.0.0.1. Shows calls succeeding, a 403, one token for many calls.
 */
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBearerAuth } from 'cyberark-bearer';
import { createClientCredentials } from 'cyberark-bearer/client';
import { createTestIssuer, randomSecret } from 'cyberark-bearer/testing';
import { createApp } from './app.js';
import { createReportingApp } from './demo-reporting.js';

// Quiet unless asked: LOG_LEVEL=debug shows the token request and its timing.
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const REPORTS = 5;
const client = { clientId: 'reporting-service', clientSecret: randomSecret(), scopes: ['orders.read'] };

const issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api', clients: [client] });
const servers: Server[] = [];

async function listen(app: { listen(port: number, host: string): Server }): Promise<string> {
  const server = app.listen(0, '127.0.0.1');
  servers.push(server);
  await new Promise((resolve, reject) => server.once('listening', resolve).once('error', reject));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const out = (line = '') => process.stdout.write(`${line}\n`);
const problems: string[] = [];

try {
  const ordersApi = await listen(createApp(createBearerAuth({ ...issuer.options, logger }), logger));
  // The reporting service is configured as in production, only with the demo issuer's URL.
  const orders = createClientCredentials({
    tenantUrl: issuer.url,
    appId: issuer.appId,
    clientId: client.clientId,
    clientSecret: client.clientSecret,
    scope: 'orders.read',
    logger,
    env: {},
  });
  const reporting = await listen(createReportingApp(orders, ordersApi));

  out('cyberark-bearer demo: two services and a CyberArk-like issuer, all on 127.0.0.1');
  out();
  out(`  issuer             ${issuer.url}  app "${issuer.appId}" (the built-in test issuer)`);
  out(`  orders API         ${ordersApi}  GET /orders needs orders.read, POST /orders needs orders.write`);
  out(`  reporting service  ${reporting}  client "${client.clientId}", allowed orders.read only`);
  out();
  out(`GET ${reporting}/report, ${REPORTS} times; each calls GET ${ordersApi}/orders with the client's token:`);
  for (let i = 1; i <= REPORTS; i++) {
    const started = performance.now();
    const res = await fetch(`${reporting}/report`);
    const body = (await res.json()) as { orders?: number; items?: string[] };
    const ms = Math.round(performance.now() - started);
    const what = res.ok ? `${body.orders} order(s): ${body.items?.join(', ')}` : JSON.stringify(body);
    out(`  ${i}. ${res.status}  ${what}  (${ms} ms${i === 1 ? ', with the token request and the key fetch' : ''})`);
    if (res.status !== 200) problems.push(`report ${i} answered ${res.status}`);
  }
  out();
  out(`POST ${reporting}/restock; it calls POST ${ordersApi}/orders, which needs orders.write:`);
  const restock = await fetch(`${reporting}/restock`, { method: 'POST' });
  const refusal = (await restock.json()) as { challenge?: string | null; body?: { error?: string } };
  out(`  ${restock.status} ${refusal.body?.error ?? ''}`);
  out(`  WWW-Authenticate: ${refusal.challenge ?? '(none)'}`);
  if (restock.status !== 403) problems.push(`restock answered ${restock.status}, expected 403`);
  out();
  const calls = REPORTS + 1;
  out(`Token requests received by the issuer: ${issuer.tokenRequests}, for ${calls} calls to the orders API.`);
  out('The client keeps the token until 60 s before it expires, and shares one request among concurrent callers.');
  if (issuer.tokenRequests !== 1) problems.push(`${issuer.tokenRequests} token requests, expected 1`);
} catch (error) {
  problems.push(error instanceof Error ? error.message : String(error));
} finally {
  for (const server of servers) server.closeAllConnections();
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  await issuer.close();
}

if (problems.length > 0) {
  process.stderr.write(`\nThe demo did not go as expected: ${problems.join('; ')}\n`);
  process.exitCode = 1;
}
