/**
 * The official MCP SDK's own client, with its client-credentials provider, against the example MCP
 * server (the app `npm run mcp` serves) guarded by cyberark-bearer, over real HTTP. It starts from
 * the server's URL alone: the 401, the RFC 9728 metadata, the issuer's metadata, a token for the
 * resource (RFC 8707), then the tools. Tokens of another app or issuer get a 401.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, randomSecret, type TestIssuer } from 'cyberark-bearer/testing';
import { createMcpApp } from '../example-server/mcp-app.js';
import { silent } from './support/logger.js';

const WRITER = {
  clientId: 'svc-orders-agent@cyberark.cloud.1234',
  clientSecret: randomSecret(),
  scopes: ['orders.read', 'orders.write'],
};
const READER = { clientId: 'svc-reporting@cyberark.cloud.1234', clientSecret: randomSecret(), scopes: ['orders.read'] };

let issuer: TestIssuer;
let server: Server;
let resource: string;
/** What the MCP server was asked and answered, in order: `POST /mcp 401`. */
let seen: string[] = [];

beforeAll(async () => {
  // The resource is the server's own URL, known once it listens.
  server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  resource = `http://127.0.0.1:${(server.address() as AddressInfo).port}/mcp`;
  issuer = await createTestIssuer({ appId: 'orders-mcp', audience: resource, clients: [WRITER, READER] });
  const auth = createBearerAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, resource, logger: silent, env: {} });
  const app = createMcpApp(auth, silent);
  server.on('request', (req, res) => {
    res.on('finish', () => seen.push(`${req.method} ${req.url} ${res.statusCode}`));
    app(req, res);
  });
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await issuer.close();
});

/**
 * The SDK's client as an MCP host builds it: the server URL and a client-credentials provider;
 * `expectedIssuer`, which the SDK recommends, only checks where discovery leads.
 */
async function connect(credentials: { clientId: string; clientSecret: string }, expectedIssuer?: string) {
  const { clientId, clientSecret } = credentials;
  const provider = new ClientCredentialsProvider({ clientId, clientSecret, ...(expectedIssuer ? { expectedIssuer } : {}) });
  const client = new Client({ name: 'mcp-test-client', version: '1.0.0' });
  await client.connect(new StreamableHTTPClientTransport(new URL(resource), { authProvider: provider }));
  return { client, provider };
}

const textOf = (result: unknown) => (result as CallToolResult).content.map((c) => (c.type === 'text' ? c.text : '')).join('');

describe('the MCP SDK client against a server guarded by cyberark-bearer', () => {
  it('goes from the server URL to a token for the resource, then lists and calls the tools', async () => {
    seen = [];
    issuer.resetCounters();
    const { client, provider } = await connect(WRITER);
    try {
      expect(seen.slice(0, 2)).toEqual(['POST /mcp 401', 'GET /.well-known/oauth-protected-resource/mcp 200']);
      expect(issuer.discoveryFetches).toBe(1);
      expect(issuer.tokenRequests).toBe(1);
      expect(decodeJwt(provider.tokens()!.access_token)).toMatchObject({
        aud: resource,
        iss: issuer.issuer,
        scope: 'orders.read orders.write',
      });

      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name)).toEqual(['list_orders', 'create_order']);
      const created = await client.callTool({ name: 'create_order', arguments: { item: 'gadget', quantity: 2 } });
      expect(created.isError).toBeFalsy();
      expect(JSON.parse(textOf(created))).toMatchObject({ item: 'gadget', quantity: 2, createdBy: WRITER.clientId });
      const listed = JSON.parse(textOf(await client.callTool({ name: 'list_orders', arguments: {} }))) as { orders: unknown[] };
      expect(listed.orders).toContainEqual(expect.objectContaining({ item: 'gadget', createdBy: WRITER.clientId }));
      // One token for every request that followed.
      expect(issuer.tokenRequests).toBe(1);
      expect(seen.filter((line) => line.endsWith(' 401'))).toHaveLength(1);
    } finally {
      await client.close();
    }
  });

  it('lets a client without orders.write list the orders but not create one', async () => {
    const { client } = await connect(READER, issuer.issuer);
    try {
      expect((await client.callTool({ name: 'list_orders', arguments: {} })).isError).toBeFalsy();
      const refused = await client.callTool({ name: 'create_order', arguments: { item: 'gadget' } });
      expect(refused.isError).toBe(true);
      expect(textOf(refused)).toBe('insufficient scope: create_order needs orders.write');
    } finally {
      await client.close();
    }
  });

  describe('a token that is not for this server', () => {
    /** The SDK client with a token of its own and no provider: it cannot fetch another. */
    const connectWith = async (token: string) => {
      const client = new Client({ name: 'mcp-test-client', version: '1.0.0' });
      const transport = new StreamableHTTPClientTransport(new URL(resource), {
        requestInit: { headers: { Authorization: `Bearer ${token}` } },
      });
      try {
        await client.connect(transport);
      } finally {
        await client.close();
      }
    };

    it.each([
      ["another app's audience", () => issuer.mint({ aud: 'orders-api', scope: 'orders.read' })],
      ['another MCP server as audience', () => issuer.mint({ aud: 'http://127.0.0.1:1/mcp', scope: 'orders.read' })],
    ])('is refused with 401 for %s, before any tool runs', async (_case, mint) => {
      const token = mint();
      await expect(connectWith(token)).rejects.toMatchObject({ code: 401 });
      const res = await fetch(resource, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="api", error="invalid_token", error_description="unexpected audience", scope="orders.read", resource_metadata="${resource.replace('/mcp', '/.well-known/oauth-protected-resource/mcp')}"`,
      );
    });

    it('is refused with 401 when another issuer signed it, even for this resource', async () => {
      const other = await createTestIssuer({ appId: 'orders-mcp', audience: resource, clients: [WRITER] });
      try {
        const token = other.mint({ scope: 'orders.read orders.write' });
        await expect(connectWith(token)).rejects.toMatchObject({ code: 401 });
        const res = await fetch(resource, { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
        expect(res.status).toBe(401);
        expect(res.headers.get('www-authenticate')).toMatch(/^Bearer realm="api", error="invalid_token", /);
      } finally {
        await other.close();
      }
    });
  });
});
