/**
 * Serves the protected resource's metadata (RFC 9728) at its well-known paths, to anyone: it is
 * public, cacheable and readable cross-origin. Node's request and response only, like the guard.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerMiddleware } from './middleware.js';

/** How long clients and caches may keep the document, in seconds. */
const MAX_AGE = 3600;
const ALLOWED = 'GET, HEAD, OPTIONS';

/** Middleware answering `paths` with `document` (JSON) and handing every other request on. */
export function protectedResourceMiddleware(document: string, paths: readonly string[]): BearerMiddleware {
  const length = String(Buffer.byteLength(document));
  return function protectedResource(req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void): void {
    if (!paths.includes(pathOf(req))) {
      next();
      return;
    }
    res.setHeader('Access-Control-Allow-Origin', '*');
    if (req.method === 'GET' || req.method === 'HEAD') {
      res.writeHead(200, {
        'Content-Type': 'application/json',
        'Content-Length': length,
        'Cache-Control': `public, max-age=${MAX_AGE}`,
      });
      res.end(req.method === 'GET' ? document : undefined);
    } else if (req.method === 'OPTIONS') {
      // A CORS preflight (MCP clients in a browser send MCP-Protocol-Version).
      res.writeHead(204, {
        Allow: ALLOWED,
        'Access-Control-Allow-Methods': ALLOWED,
        'Access-Control-Allow-Headers': '*',
        'Access-Control-Max-Age': String(MAX_AGE),
      });
      res.end();
    } else {
      res.writeHead(405, { Allow: ALLOWED, 'Content-Length': '0' });
      res.end();
    }
  };
}

/** The path the client asked for, wherever the middleware is mounted; without the query. */
function pathOf(req: IncomingMessage & { originalUrl?: string }): string {
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
