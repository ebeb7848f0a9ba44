/**
 * The example orders API (example-server/app.ts) configured from CYBERARK_* like `npm start`
 * with a tenant, in a child process of bench/soak.ts, reporting its memory over IPC.
 * Run with --expose-gc so that it can also report the live heap (after a full collection).
 */
import type { AddressInfo } from 'node:net';
import { pino } from 'pino';
import { createBearerAuth } from 'cyberark-bearer';
import { createApp } from '../example-server/app.js';

interface Sample {
  readonly type: 'memory';
  readonly at: number;
  readonly rss: number;
  readonly heapUsed: number;
  /** heapUsed right after a forced full GC: the live heap. Undefined without --expose-gc. */
  readonly liveHeap: number | undefined;
  readonly external: number;
}

const send = (message: unknown) => process.send?.(message);
const logger = pino({ level: process.env.LOG_LEVEL ?? 'warn' });
const auth = createBearerAuth({ logger });
await auth.ready();
const server = createApp(auth, logger).listen(0, '127.0.0.1', () => {
  send({ type: 'listening', port: (server.address() as AddressInfo).port });
});
server.keepAliveTimeout = 30_000;

const gc = (globalThis as { gc?: () => void }).gc;
const sample = (): Sample => {
  const { rss, heapUsed, external } = process.memoryUsage();
  let liveHeap: number | undefined;
  if (gc) {
    gc();
    liveHeap = process.memoryUsage().heapUsed;
  }
  return { type: 'memory', at: Date.now(), rss, heapUsed, liveHeap, external };
};

process.on('message', (message: { type?: string }) => {
  if (message.type === 'sample') send(sample());
  if (message.type === 'stop') {
    server.closeAllConnections();
    server.close(() => process.exit(0));
  }
});
process.on('disconnect', () => process.exit(0));
