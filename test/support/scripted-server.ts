/**
 * Small HTTP servers on 127.0.0.1 that answer from a script (for answers the test kit never gives:
 * a token endpoint's odd answers, a JWKS that changes, redirects) and record what they received.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { listen } from './http.js';

export interface Received {
  readonly method: string;
  readonly url: string;
  readonly headers: IncomingMessage['headers'];
  readonly body: string;
  /** performance.now() at arrival. */
  readonly at: number;
}

export type Answer = (req: Received, res: ServerResponse) => void;

export interface ScriptedServer {
  readonly url: string;
  readonly received: Received[];
  close(): Promise<void>;
}

/** Answers the n-th request with `answers[n]`, and every later one with the last answer. */
export async function scriptedServer(answers: readonly Answer[]): Promise<ScriptedServer> {
  const received: Received[] = [];
  const server = await listen((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
        at: performance.now(),
      };
      received.push(entry);
      const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
      answer(entry, res);
    });
  });
  return { url: server.url, received, close: server.close };
}

export const json =
  (status: number, body: unknown, headers: Record<string, string> = {}): Answer =>
  (_req, res) => {
    res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
  };

/** A well-formed token answer with an opaque token. */
export const tokenAnswer = (token = 'opaque-token-1', expiresIn = 3600): Answer =>
  json(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });

/** Answers by path (query ignored): `routes[path]`, else 404. */
export const routed =
  (routes: Readonly<Record<string, Answer>>): Answer =>
  (req, res) => {
    const answer = routes[req.url.split('?')[0]!];
    if (answer) answer(req, res);
    else res.writeHead(404).end();
  };

/** A redirect with this status to `location` (read when the request arrives). */
export const redirect =
  (status: number, location: string | (() => string)): Answer =>
  (_req, res) => {
    res.writeHead(status, { location: typeof location === 'string' ? location : location() }).end();
  };
