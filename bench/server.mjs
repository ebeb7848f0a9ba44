/**
 * One contender's API in its own process, so the load generator never shares its event loop.
 * Reports its port when listening, and its CPU time and memory when asked (over IPC); profiles
 * itself when bench/profile.mjs asks.
 */
import express from 'express';
import { pino } from 'pino';
import { contenders } from './contenders.mjs';

const name = process.env.BENCH_CONTENDER;
const cfg = JSON.parse(process.env.BENCH_CONFIG);
const setup = contenders[name];
if (!setup) throw new Error(`unknown contender ${name}`);

// Key fetch timings, for the cold-start measurement (cyberark-bearer logs them at debug).
const fetches = [];
const logger = pino(
  { level: 'debug' },
  {
    write(line) {
      const entry = JSON.parse(line);
      if (entry.msg === 'signing keys fetched') fetches.push(entry.ms);
    },
  },
);

const app = express();
app.set('etag', false);
app.set('x-powered-by', false);
// For the cold start only: each request's time in the server, arrival to last byte.
const latencies = [];
if (process.env.BENCH_LATENCIES) {
  app.use((_req, res, next) => {
    const t0 = performance.now();
    res.on('finish', () => latencies.push(performance.now() - t0));
    next();
  });
}
await setup(app, cfg, { logger });
const server = app.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
server.keepAliveTimeout = 60_000;

process.on('message', async (message) => {
  if (message.type === 'stats') {
    process.send({ type: 'stats', cpu: process.cpuUsage(), memory: process.memoryUsage(), fetches, latencies });
  } else if (message.type === 'profile') {
    // Only bench/profile.mjs asks: loaded on demand, so the bench's servers carry none of it.
    const { profiler } = await import('./profiler.mjs');
    process.send({ type: 'profile', ...(await profiler(message)) });
  }
});
process.on('disconnect', () => process.exit(0));
