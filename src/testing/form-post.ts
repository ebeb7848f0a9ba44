/**
 * What the issuer's POST endpoints (token, introspection, revocation) share: a form body read
 * with a size limit, RFC 6749 §5.2 refusals, and HTTP Basic credentials decoded per RFC 6749 §2.3.1.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Answer } from './server.js';

/** An RFC 6749 §5.2 error answer. */
export class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

export const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const BODY_LIMIT = 64 * 1024;

export const invalidRequest = (description: string): Refusal => new Refusal(400, 'invalid_request', description);

/** A POST-only endpoint: other methods get 405, a thrown error 500, a `Refusal` its RFC 6749 answer. */
export function formPost(handle: (req: IncomingMessage, res: ServerResponse) => Promise<Refusal | void>): Answer {
  return (req, res) => {
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
      return;
    }
    handle(req, res).then(
      (refusal) => {
        if (refusal) {
          const { status, error, description, headers } = refusal;
          sendJson(res, status, { error, error_description: description }, { ...NO_STORE, ...headers });
        }
      },
      () => {
        if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
      },
    );
  };
}

/** The form body, or why not: too large, another content type, or one of `single` repeated. */
export async function readForm(req: IncomingMessage, single: readonly string[]): Promise<URLSearchParams | Refusal> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const text = await readBody(req, BODY_LIMIT);
  if (text === undefined) return invalidRequest('request body too large');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return invalidRequest('body must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(text);
  for (const name of single) {
    if (form.getAll(name).length > 1) return invalidRequest(`${name} repeated`);
  }
  return form;
}

/** Basic credentials are form-urlencoded before base64; undefined when absent, null when malformed. */
export function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined | null {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

/** The body as UTF-8, or undefined past `limit` bytes or on a connection error. */
function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}
