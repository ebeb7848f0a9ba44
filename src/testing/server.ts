/**
 * The issuer's HTTP server on 127.0.0.1: routes each endpoint's path, counts its requests, lets a
 * fault answer first, and tracks connections so that close() never waits for a client.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Endpoint, Faults } from './faults.js';

export type Answer = (req: IncomingMessage, res: ServerResponse) => void;

interface Route {
  /** Null: neither counted nor faultable. */
  readonly endpoint: Endpoint | null;
  /** Methods served; any other gets the 404 an unknown path gets. Undefined: all. */
  readonly methods: readonly string[] | undefined;
  readonly answer: Answer;
}

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'Content-Type': 'application/json; charset=utf-8',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
}

export class IssuerServer {
  /** Base URL, e.g. `http://127.0.0.1:43123`. */
  readonly url: string;
  readonly #server: Server;
  readonly #faults: Faults;
  readonly #routes = new Map<string, Route>();
  readonly #requests: Record<Endpoint, number> = { jwks: 0, token: 0, discovery: 0 };
  readonly #sockets = new Set<Socket>();

  /** Listens on 127.0.0.1; every path answers 404 until routed. */
  static async listen(port: number, faults: Faults): Promise<IssuerServer> {
    const server = createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, '127.0.0.1', () => resolve());
    });
    return new IssuerServer(server, faults);
  }

  private constructor(server: Server, faults: Faults) {
    this.#server = server;
    this.#faults = faults;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    server.on('request', (req: IncomingMessage, res: ServerResponse) => this.#dispatch(req, res));
    server.on('connection', (socket: Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
  }

  /** Serves `endpoint` at the path of `url`, in any letter case (as CyberArk does). */
  route(endpoint: Endpoint | null, url: string, methods: readonly string[] | undefined, answer: Answer): void {
    this.#routes.set(new URL(url).pathname.toLowerCase(), { endpoint, methods, answer });
  }

  /** Requests an endpoint received, faulty answers included. */
  requests(endpoint: Endpoint): number {
    return this.#requests[endpoint];
  }

  resetRequests(): void {
    this.#requests.jwks = this.#requests.token = this.#requests.discovery = 0;
  }

  async close(): Promise<void> {
    for (const socket of this.#sockets) socket.destroy();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }

  #dispatch(req: IncomingMessage, res: ServerResponse): void {
    const route = this.#routes.get((req.url ?? '/').split('?')[0]!.toLowerCase());
    if (!route || (route.methods && !route.methods.includes(req.method ?? ''))) {
      sendJson(res, 404, { error: 'not_found' });
      return;
    }
    if (route.endpoint === null) return route.answer(req, res);
    this.#requests[route.endpoint]++;
    this.#faults.serve(route.endpoint, req, res, () => route.answer(req, res));
  }
}
