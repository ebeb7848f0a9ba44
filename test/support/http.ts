/**
 * HTTP on 127.0.0.1 for the tests: a server on a free port that closes completely, a port nothing
 * listens on, and requests sent as raw bytes, for what an HTTP client would refuse to send.
 */
import { createServer, Server, type RequestListener } from 'node:http';
import { connect, type AddressInfo } from 'node:net';

export interface Listening {
  readonly server: Server;
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  readonly url: string;
  readonly port: number;
  /** Cuts every connection, open or idle (a hanging answer too), and waits until the server is closed. */
  readonly close: () => Promise<void>;
}

/** Listens on a free port of 127.0.0.1 with `handler` (an Express app is one), or with a server built with options. */
export async function listen(handler: RequestListener | Server): Promise<Listening> {
  const server = handler instanceof Server ? handler : createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    url: `http://127.0.0.1:${port}`,
    port,
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A port of 127.0.0.1 that nothing listens on: a connection to it is refused. */
export async function freePort(): Promise<number> {
  const { port, close } = await listen(() => undefined);
  await close();
  return port;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string>>;
  /** Parsed when it is JSON, else the text; undefined when empty. */
  readonly body: unknown;
}

/**
 * Sends `head` (request line and header lines, without the final blank line) as raw bytes to
 * `url`, so that a test can send what an HTTP client refuses to: repeated headers, non-ASCII bytes.
 */
export function rawRequest(url: string, head: Buffer | string): Promise<RawResponse> {
  const { port } = new URL(url);
  const bytes = Buffer.concat([
    typeof head === 'string' ? Buffer.from(head, 'latin1') : head,
    Buffer.from('\r\nConnection: close\r\n\r\n'),
  ]);
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // Written, not ended: a half-closed socket may be dropped before a slow answer is sent.
    const socket = connect(Number(port), '127.0.0.1', () => socket.write(bytes));
    socket.on('data', (chunk: Buffer) => chunks.push(chunk));
    socket.on('error', reject);
    socket.on('close', () => {
      const text = Buffer.concat(chunks).toString('latin1');
      const split = text.indexOf('\r\n\r\n');
      const [statusLine, ...lines] = text.slice(0, split).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim();
      }
      const rest = text.slice(split + 4);
      let body: unknown = rest;
      try {
        body = rest === '' ? undefined : JSON.parse(rest);
      } catch {
        // not JSON: keep the text
      }
      resolve({ status: Number(statusLine!.split(' ')[1]), headers, body });
    });
  });
}

/** A request line and headers for `rawRequest`: `GET path` with each `[name, value]` in order. */
export function rawHead(path: string, headers: ReadonlyArray<readonly [string, string | Buffer]>): Buffer {
  const parts: Buffer[] = [Buffer.from(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1`)];
  for (const [name, value] of headers)
    parts.push(Buffer.from(`\r\n${name}: `), Buffer.from(value as string, typeof value === 'string' ? 'latin1' : undefined));
  return Buffer.concat(parts);
}
