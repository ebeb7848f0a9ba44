/**
 * Small HTTP servers on 127.0.0.1 for the client tests: a token endpoint that answers from a
 * script (for answers the test kit never gives) and records what it received.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

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
  const sockets = new Set<Socket>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const entry = { method: req.method ?? '', url: req.url ?? '', headers: req.headers, body: Buffer.concat(chunks).toString('utf8'), at: performance.now() };
      received.push(entry);
      const answer = answers[Math.min(received.length - 1, answers.length - 1)]!;
      answer(entry, res);
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    received,
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

export const json = (status: number, body: unknown, headers: Record<string, string> = {}): Answer => (_req, res) => {
  res.writeHead(status, { 'content-type': 'application/json', ...headers }).end(JSON.stringify(body));
};

/** A well-formed token answer with an opaque token. */
export const tokenAnswer = (token = 'opaque-token-1', expiresIn = 3600): Answer => json(200, { access_token: token, token_type: 'Bearer', expires_in: expiresIn });

/** Answers by path (query ignored): `routes[path]`, else 404. */
export const routed = (routes: Readonly<Record<string, Answer>>): Answer => (req, res) => {
  const answer = routes[req.url.split('?')[0]!];
  if (answer) answer(req, res);
  else res.writeHead(404).end();
};

/** A redirect with this status to `location` (read when the request arrives). */
export const redirect = (status: number, location: string | (() => string)): Answer => (_req, res) => {
  res.writeHead(status, { location: typeof location === 'string' ? location : location() }).end();
};
