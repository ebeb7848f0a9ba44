/**
 * What the bench and the profiler share: a contender's server in its own process, and load on
 * it with autocannon from this one.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import autocannon from 'autocannon';

export const here = (file) => fileURLToPath(new URL(file, import.meta.url));

/** Starts `bench/server.mjs` for contender `name`; `execArgv` are Node flags for that process. */
export function startServer(name, cfg, { env = {}, execArgv = [] } = {}) {
  const child = fork(here('./server.mjs'), [], {
    env: { ...process.env, BENCH_CONTENDER: name, BENCH_CONFIG: JSON.stringify(cfg), ...env },
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  /** Sends `message` and resolves with the server's answer of the same type. */
  const ask = (message) =>
    new Promise((resolve) => {
      const onMessage = (m) => {
        if (m.type !== message.type) return;
        child.off('message', onMessage);
        resolve(m);
      };
      child.on('message', onMessage);
      child.send(message);
    });
  const ready = new Promise((resolve, reject) => {
    child.once('message', (m) => resolve(m.port));
    child.once('exit', (code) => reject(new Error(`${name} server exited with ${code}`)));
  });
  return { child, ready, ask, stats: () => ask({ type: 'stats' }), stop: () => child.kill('SIGKILL') };
}

/**
 * Load with autocannon; `pick(i)` gives the token of the i-th request. The window is timed here,
 * from the first request sent to the last response received: autocannon stamps its own end on
 * its next one-second sample tick, which skews short runs.
 */
export async function load(port, { pick, duration, amount, connections }) {
  let i = 0;
  let first;
  let last;
  const result = await autocannon({
    url: `http://127.0.0.1:${port}`,
    connections,
    ...(amount ? { amount } : { duration }),
    requests: [
      {
        method: 'GET',
        path: '/orders',
        setupRequest: (req) => {
          first ??= performance.now();
          return { ...req, headers: { authorization: `Bearer ${pick(i++)}` } };
        },
        onResponse: () => {
          last = performance.now();
        },
      },
    ],
  });
  return { result, seconds: (last - first) / 1000 };
}
