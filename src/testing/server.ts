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
  /** The endpoint's answer under the `huge` fault, if it has its own. */
  readonly huge: Answer | undefined;
}

const ENDPOINTS: readonly Endpoint[] = ['jwks', 'token', 'discovery', 'introspect', 'revoke'];
const counters = (): Record<Endpoint, number> => ({ jwks: 0, token: 0, discovery: 0, introspect: 0, revoke: 0 });

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
  readonly #requests = counters();
  readonly #inFlight = counters();
  readonly #peak = counters();
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
  route(endpoint: Endpoint | null, url: string, methods: readonly string[] | undefined, answer: Answer, huge?: Answer): void {
    this.#routes.set(new URL(url).pathname.toLowerCase(), { endpoint, methods, answer, huge });
  }

  /** Requests an endpoint received, faulty answers included. */
  requests(endpoint: Endpoint): number {
    return this.#requests[endpoint];
  }

  /** Requests an endpoint has received and not yet answered (or seen dropped). */
  inFlight(endpoint: Endpoint): number {
    return this.#inFlight[endpoint];
  }

  /** The most requests an endpoint had in flight at once since the last reset. */
  peak(endpoint: Endpoint): number {
    return this.#peak[endpoint];
  }

  resetRequests(): void {
    for (const endpoint of ENDPOINTS) {
      this.#requests[endpoint] = 0;
      this.#peak[endpoint] = this.#inFlight[endpoint];
    }
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
    const { endpoint, huge } = route;
    if (endpoint === null) return route.answer(req, res);
    this.#requests[endpoint]++;
    this.#peak[endpoint] = Math.max(this.#peak[endpoint], ++this.#inFlight[endpoint]);
    res.once('close', () => this.#inFlight[endpoint]--);
    this.#faults.serve(endpoint, req, res, () => route.answer(req, res), huge && (() => huge(req, res)));
  }
}
