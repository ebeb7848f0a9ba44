/**
 * The example MCP server: orders as two tools over Streamable HTTP (stateless), every request
 * authorised by cyberark-bearer, its RFC 9728 metadata served for clients to find the issuer.
 * Built as a function so the tests drive exactly the app that `npm run mcp` serves.
 */
import express from 'express';
import { z } from 'zod';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { BearerAuth } from 'cyberark-bearer';
import type { Logger } from 'pino';

interface Order {
  id: number;
  item: string;
  quantity: number;
  createdBy: string;
}

const text = (value: unknown, isError = false): CallToolResult => ({
  content: [{ type: 'text', text: typeof value === 'string' ? value : JSON.stringify(value) }],
  ...(isError ? { isError } : {}),
});

export function createMcpApp(auth: BearerAuth, logger: Logger): express.Express {
  const orders: Order[] = [{ id: 1, item: 'widget', quantity: 3, createdBy: 'seed' }];

  /** One server per request: stateless, as every request is authorised on its own. */
  function ordersServer(): McpServer {
    const server = new McpServer({ name: 'orders', version: '1.0.0' });
    server.registerTool('list_orders', { description: 'List the orders (needs orders.read).' }, () => text({ orders }));
    server.registerTool(
      'create_order',
      {
        description: 'Create an order (needs orders.write).',
        inputSchema: { item: z.string().min(1), quantity: z.number().int().min(1).default(1) },
      },
      ({ item, quantity }, extra) => {
        // The route lets in any token with orders.read; writing needs more, checked per tool.
        if (!extra.authInfo?.scopes.includes('orders.write'))
          return text('insufficient scope: create_order needs orders.write', true);
        const order: Order = { id: orders.length + 1, item, quantity, createdBy: extra.authInfo.clientId };
        orders.push(order);
        return text(order);
      },
    );
    return server;
  }

  const app = express();
  app.use(auth.protectedResource({ scopesSupported: ['orders.read', 'orders.write'], resourceName: 'Orders (MCP example)' }));
  // Every method on /mcp needs a token with orders.read: a 401 sends the client to the metadata.
  app.all('/mcp', auth.requireToken('orders.read'));
  app.post('/mcp', express.json({ limit: '64kb' }), async (req, res) => {
    const server = ordersServer();
    // Stateless: no sessionIdGenerator. JSON answers rather than an event stream, for curl's sake.
    const transport = new StreamableHTTPServerTransport({ enableJsonResponse: true });
    res.on('close', () => {
      void transport.close();
      void server.close();
    });
    try {
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
    } catch (error) {
      logger.error({ err: error }, 'MCP request failed');
      if (!res.headersSent)
        res.status(500).json({ jsonrpc: '2.0', error: { code: -32603, message: 'Internal error' }, id: null });
    }
  });
  // No server-initiated stream and no session to delete in a stateless server.
  app.all('/mcp', (_req, res) => {
    res
      .status(405)
      .set('Allow', 'POST')
      .json({ jsonrpc: '2.0', error: { code: -32000, message: 'Method not allowed.' }, id: null });
  });
  app.use((_req, res) => {
    res.status(404).json({ error: 'not_found' });
  });
  return app;
}
