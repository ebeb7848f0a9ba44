/**
 * `npm start`: the example orders API. With no CYBERARK_* variable it runs the built-in
 * CyberArk-like issuer with a demo client and prints the commands to try; with any, a real tenant.
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { createApp } from './app.js';
import { startupProblem, stopOnSignals, useTenant } from './environment.js';

const logger = pino({ level: process.env.LOG_LEVEL ?? 'info' });
const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';

const DEMO = {
  appId: 'orders-api',
  clientId: 'demo-client',
  clientSecret: 'demo-secret',
  scopes: ['orders.read', 'orders.write'],
};

let issuer: TestIssuer | undefined;
let options: BearerAuthOptions = {};
if (!useTenant) {
  issuer = await createTestIssuer({
    appId: DEMO.appId,
    audience: DEMO.appId,
    clients: [
      { clientId: DEMO.clientId, clientSecret: DEMO.clientSecret, scopes: DEMO.scopes },
      { clientId: 'reader-client', clientSecret: 'reader-secret', scopes: ['orders.read'] },
    ],
  });
  options = issuer.options;
}

try {
  const auth = createBearerAuth({ ...options, logger });
  await auth.ready();
  const app = createApp(auth, logger);
  const server = app.listen(port, host, () => {
    const { port: actual } = server.address() as AddressInfo;
    printInstructions(`http://${host}:${actual}`, issuer, auth.config.issuers);
  });
  server.on('error', (error: NodeJS.ErrnoException) => {
    const hint = error.code === 'EADDRINUSE' ? `: port ${port} is in use, try PORT=3001 npm start` : '';
    logger.error({ code: error.code }, `cannot listen on ${host}:${port}${hint}`);
    process.exit(1);
  });
  stopOnSignals(server, issuer);
} catch (error) {
  const problem = startupProblem(error);
  if (problem === undefined) throw error;
  logger.fatal(problem);
  await issuer?.close();
  process.exit(1);
}

function printInstructions(api: string, local: TestIssuer | undefined, trusted: readonly string[]): void {
  const lines: string[] = [''];
  if (local) {
    lines.push(
      `Orders API on ${api}, trusting the built-in issuer at ${local.url} (app "${local.appId}").`,
      '',
      'Get a token as the demo client (client credentials), then call the API:',
      '',
      `  TOKEN=$(curl -s -X POST ${local.tokenUrl} -d grant_type=client_credentials -d client_id=${DEMO.clientId} -d client_secret=${DEMO.clientSecret} --data-urlencode 'scope=${DEMO.scopes.join(' ')}' | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    );
  } else {
    lines.push(
      `Orders API on ${api}, trusting ${trusted.join(', ')}.`,
      '',
      'Get a token from your tenant with a confidential client that holds orders.read and orders.write:',
      '',
      `  TOKEN=$(curl -s -X POST "$CYBERARK_TENANT_URL/oauth2/token/$CYBERARK_APP_ID" -d grant_type=client_credentials --data-urlencode "client_id=$CLIENT_ID" --data-urlencode "client_secret=$CLIENT_SECRET" --data-urlencode 'scope=orders.read orders.write' | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
    );
  }
  lines.push(
    `  curl -H "Authorization: Bearer $TOKEN" ${api}/orders`,
    `  curl -X POST -H "Authorization: Bearer $TOKEN" -H 'Content-Type: application/json' -d '{"item":"gadget","quantity":2}' ${api}/orders`,
    `  curl -H "Authorization: Bearer $TOKEN" ${api}/whoami`,
    '',
    'And the refusals (note the WWW-Authenticate header): no token, a token that is not a JWT,',
    ...(local ? ['and a client that may read orders but not create them:'] : []),
    '',
    `  curl -i ${api}/orders`,
    `  curl -i -H "Authorization: Bearer not-a-jwt" ${api}/orders`,
  );
  if (local) {
    lines.push(
      `  READER=$(curl -s -X POST ${local.tokenUrl} -d grant_type=client_credentials -d client_id=reader-client -d client_secret=reader-secret | node -p 'JSON.parse(require("fs").readFileSync(0, "utf8")).access_token')`,
      `  curl -i -X POST -H "Authorization: Bearer $READER" -H 'Content-Type: application/json' -d '{"item":"gadget"}' ${api}/orders`,
    );
  }
  lines.push('');
  process.stdout.write(lines.join('\n') + '\n');
}
