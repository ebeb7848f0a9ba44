/**
 * Writes a refusal on a plain Node response: status, RFC 6750 challenge, `Cache-Control:
 * no-store`, `Retry-After` for 503, and a JSON body (or, once headers were sent, the connection
 * closed). Works under Express 4, 5 or bare `http`.
 */
import type { ServerResponse } from 'node:http';
import type { BearerError, ChallengeParams } from '../errors.js';

/** `params` default to the error's own (set by `withRealm()`, as `authenticate()` does). */
export function sendRefusal(res: ServerResponse, error: BearerError, realm: string, params?: ChallengeParams): void {
  if (res.headersSent) {
    // Someone answered already; a second answer would throw, and leaving it open would keep the
    // client waiting on a response that said yes. Cut it off, as Express's final handler does.
    res.destroy();
    return;
  }
  const body = JSON.stringify(error.body);
  res.statusCode = error.status;
  const headers = error.headersFor(realm, params);
  for (const name in headers) res.setHeader(name, headers[name]!);
  res.setHeader('Content-Type', 'application/json; charset=utf-8');
  res.setHeader('Content-Length', Buffer.byteLength(body));
  res.end(body);
}
