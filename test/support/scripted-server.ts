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

const formEncode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
const jsonEscape = (value: string) => JSON.stringify(value).slice(1, -1);

/** A client whose secret reads differently in every encoding: space, + / @ % & " \ and é. */
export const ECHOED_CLIENT = { clientId: 'svc@echo', clientSecret: 'p@ss w/rd+%&"\\é9' } as const;

/**
 * Forms in which a token endpoint may echo the client secret, each as that endpoint would build it
 * from the request it received (`basic`: the client authenticates with HTTP Basic).
 */
export const SECRET_ECHOES: ReadonlyArray<readonly [form: string, basic: boolean, echo: (req: Received) => string]> = [
  ['raw', false, () => ECHOED_CLIENT.clientSecret],
  ['URL-encoded', false, () => encodeURIComponent(ECHOED_CLIENT.clientSecret)],
  ['URL-encoded, lower-case hex', false, () => encodeURIComponent(ECHOED_CLIENT.clientSecret).toLowerCase()],
  ['form-encoded', false, () => formEncode(ECHOED_CLIENT.clientSecret)],
  ['the form body received', false, (req) => req.body],
  ['the Basic header received', true, (req) => req.headers.authorization ?? ''],
  ['base64 of id:secret', true, () => Buffer.from(`${ECHOED_CLIENT.clientId}:${ECHOED_CLIENT.clientSecret}`).toString('base64')],
  ['JSON-escaped', false, () => jsonEscape(ECHOED_CLIENT.clientSecret)],
  ['JSON-escaped, ASCII only', false, () => jsonEscape(ECHOED_CLIENT.clientSecret).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)],
];

/** Every form of the secret above, to search an output for. */
export function echoedSecretForms(): string[] {
  const { clientId, clientSecret } = ECHOED_CLIENT;
  const forms = [clientSecret, encodeURIComponent(clientSecret), formEncode(clientSecret), jsonEscape(clientSecret)];
  for (const joined of [`${clientId}:${clientSecret}`, `${formEncode(clientId)}:${formEncode(clientSecret)}`]) {
    forms.push(Buffer.from(joined).toString('base64'), Buffer.from(joined).toString('base64url'));
  }
  // As an output would show them with non-ASCII characters replaced.
  return [...new Set([...forms, ...forms.map((form) => form.replace(/[^\x20-\x7e]/g, '?'))])];
}

/** A token endpoint that refuses every request with 401, echoing `echo(request)` in `field`. */
export const echoingRefusal = (field: 'error' | 'error_description', echo: (req: Received) => string): Answer => (req, res) => {
  const body = field === 'error' ? { error: echo(req) } : { error: 'invalid_client', error_description: `client authentication failed for ${echo(req)}` };
  json(401, body)(req, res);
};
