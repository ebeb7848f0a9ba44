/**
 * `npm run mcp`: the example MCP server. With no CYBERARK_* variable it runs the built-in
 * CyberArk-like issuer with two demo clients and prints how to connect; with them, a real tenant.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { startupProblem, stopOnSignals, useTenant } from './environment.js';
import { createMcpApp } from './mcp-app.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const WRITER = { clientId: 'demo-client', clientSecret: 'demo-secret', scopes: ['orders.read', 'orders.write'] };
const READER = { clientId: 'reader-client', clientSecret: 'reader-secret', scopes: ['orders.read'] };

// The resource is the URL clients connect to: listen first, then it is known (the port may be 0).
const server = createServer();
server.on('error', (error: NodeJS.ErrnoException) => {
  const hint = error.code === 'EADDRINUSE' ? `: port ${port} is in use, try PORT=3001 npm run mcp` : '';
  logger.fatal({ code: error.code }, `cannot listen on ${host}:${port}${hint}`);
  process.exit(1);
});
await new Promise<void>((resolve) => server.listen(port, host, resolve));
const base = `http://${host}:${(server.address() as AddressInfo).port}`;

let issuer: TestIssuer | undefined;
try {
  let options: BearerAuthOptions = { logger };
  if (!useTenant) {
    const resource = `${base}/mcp`;
    // Its token endpoint sets `aud` to the resource an MCP client asks for (RFC 8707).
    issuer = await createTestIssuer({ appId: 'orders-mcp', audience: resource, clients: [WRITER, READER] });
    // No audience: tokens must name the resource itself.
    options = { issuer: issuer.issuer, jwksUri: issuer.jwksUri, resource, logger };
  }
  const auth = createBearerAuth(options);
  await auth.ready();
  // Checked now rather than at the first request: a tenant's environment must name the resource.
  server.on('request', createMcpApp(auth, logger));
  printInstructions(auth.config.resource!, auth.resourceMetadataUrl!, issuer);
} catch (error) {
  const problem = startupProblem(error);
  if (problem === undefined) throw error;
  logger.fatal(problem);
  server.close();
  await issuer?.close();
  process.exit(1);
}
stopOnSignals(server, issuer);

function printInstructions(resource: string, metadataUrl: string, local: TestIssuer | undefined): void {
  const lines = [
    '',
    `Orders MCP server at ${resource} (Streamable HTTP, stateless), trusting ${local ? `the built-in issuer at ${local.url} (app "${local.appId}")` : 'your tenant'}.`,
    '',
    '  list_orders    needs orders.read, as every request to the server does',
    '  create_order   needs orders.write as well, checked by the tool',
    '',
  ];
  if (local) {
    lines.push(
      `Connect an MCP client with client credentials (the MCP SDK's ClientCredentialsProvider) to ${resource}:`,
      ...[WRITER, READER].map(
        (c) =>
          `  ${`${c.clientId} / ${c.clientSecret}`.padEnd(32)}${c.scopes.join(' ')}${c.scopes.includes('orders.write') ? '' : ' (create_order is refused)'}`,
      ),
    );
  } else {
    lines.push(`Connect an MCP client with the client credentials of a service user of your tenant to ${resource}.`);
  }
  lines.push(
    'It finds the rest itself: the 401 names the metadata, and the metadata names the issuer.',
    '',
    `  curl -i -X POST ${resource}`,
    `  curl ${metadataUrl}`,
  );
  if (local) {
    const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: 'list_orders', arguments: {} } });
    lines.push(
      '',
      'By hand: a token for the resource (RFC 8707), then a tool call:',
      '',
      `  TOKEN=$(curl -s -X POST ${local.tokenUrl} -d grant_type=client_credentials -d client_id=${WRITER.clientId} -d client_secret=${WRITER.clientSecret} --data-urlencode 'scope=${WRITER.scopes.join(' ')}' --data-urlencode 'resource=${resource}' | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
      `  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -H 'Accept: application/json, text/event-stream' -d '${body}' ${resource}`,
    );
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
}
