/**
 * `npm run soak`: drives the example orders API (bench/soak-server.ts, a child process) for a few
 * minutes with valid tokens, garbage, random kids and SOAK_DISTINCT distinct valid tokens, and
 * reports its memory over time and every wrong answer. Not a test: nothing here is timed.
 *
 * Load goes only to 127.0.0.1, at most SOAK_MAX_REQUESTS requests, for SOAK_SECONDS seconds
 * (default 180); then the server and the local issuer are stopped. Exit code 1 when a valid token
 * was refused, a 5xx was seen, or the live heap grew past the stated bound.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Agent, request } from 'node:http';
import { createTestIssuer } from 'cyberark-bearer/testing';

const SECONDS = Number(process.env.SOAK_SECONDS ?? 180);
const DISTINCT = Number(process.env.SOAK_DISTINCT ?? 200_000);
const CONCURRENCY = Number(process.env.SOAK_CONCURRENCY ?? 32);
const MAX_REQUESTS = Number(process.env.SOAK_MAX_REQUESTS ?? 3_000_000);
const SAMPLE_EVERY_S = Number(process.env.SOAK_SAMPLE_SECONDS ?? 10);
/** The bound checked at the end: live heap (after a full GC) at most this much above its first sample. */
const LIVE_HEAP_BOUND_MB = Number(process.env.SOAK_HEAP_BOUND_MB ?? 32);

for (const [name, value] of Object.entries({
  SECONDS,
  DISTINCT,
  CONCURRENCY,
  MAX_REQUESTS,
  SAMPLE_EVERY_S,
  LIVE_HEAP_BOUND_MB,
})) {
  if (!(Number.isFinite(value) && value > 0)) throw new Error(`soak: ${name} must be a positive number`);
}

type Kind = 'distinct' | 'pooled' | 'garbage' | 'random_kid';
interface Sample {
  at: number;
  rss: number;
  heapUsed: number;
  liveHeap: number | undefined;
  external: number;
}

const MB = (bytes: number | undefined) => (bytes === undefined ? '-' : (bytes / 2 ** 20).toFixed(1));
const b64 = (data: string | Buffer) => Buffer.from(data).toString('base64url');

const issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api' });
const serverLog: string[] = [];
const child: ChildProcess = fork(fileURLToPath(new URL('./soak-server.ts', import.meta.url)), [], {
  execArgv: ['--expose-gc', '--import', 'tsx'],
  env: {
    ...process.env,
    CYBERARK_TENANT_URL: issuer.url,
    CYBERARK_APP_ID: 'orders-api',
    CYBERARK_AUDIENCE: 'orders-api',
    LOG_LEVEL: 'warn',
  },
  stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
});
child.stdout!.on('data', (chunk: Buffer) => serverLog.push(...chunk.toString().split('\n').filter(Boolean)));
child.stderr!.on('data', (chunk: Buffer) => serverLog.push(...chunk.toString().split('\n').filter(Boolean)));

const samples: Sample[] = [];
let pendingSample: ((s: Sample) => void) | undefined;
const port = await new Promise<number>((resolve, reject) => {
  child.on('message', (message: { type: string; port?: number } & Sample) => {
    if (message.type === 'listening') resolve(message.port!);
    if (message.type === 'memory') {
      samples.push(message);
      pendingSample?.(message);
    }
  });
  child.once('exit', (code) => reject(new Error(`soak server exited (${code}): ${serverLog.join('\n')}`)));
});
const sampleNow = () =>
  new Promise<Sample>((resolve) => {
    pendingSample = resolve;
    child.send({ type: 'sample' });
  });

const agent = new Agent({ keepAlive: true, maxSockets: CONCURRENCY });
function get(authorization: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path: '/orders', agent, headers: { authorization } }, (res) => {
      res.resume();
      res.on('end', () => resolve(res.statusCode!));
    });
    req.on('error', reject);
    req.end();
  });
}

const now = () => Math.floor(Date.now() / 1000);
const pool = Array.from({ length: 100 }, (_, i) =>
  issuer.mint({ scope: 'orders.read', sub: `pooled-${i}`, exp: now() + 3 * 3600 }),
);
const [, poolPayload, poolSignature] = pool[0]!.split('.');
let distinctSent = 0;

function next(elapsed: number): { kind: Kind; token: string } {
  // Distinct tokens are spread so that all are sent by 90 % of the run.
  if (distinctSent < DISTINCT && distinctSent < (DISTINCT * elapsed) / (0.9 * SECONDS)) {
    distinctSent++;
    return {
      kind: 'distinct',
      token: issuer.mint({ scope: 'orders.read', sub: `client-${distinctSent}`, jti: `t${distinctSent}` }),
    };
  }
  const roll = Math.random();
  if (roll < 0.5) return { kind: 'pooled', token: pool[Math.floor(Math.random() * pool.length)]! };
  if (roll < 0.75) {
    const garbage = [
      randomBytes(24).toString('hex'),
      `${b64(randomBytes(20))}.${b64(randomBytes(60))}.${b64(randomBytes(40))}`,
      `${poolPayload}.${poolPayload}.${poolSignature}`,
    ];
    return { kind: 'garbage', token: garbage[Math.floor(Math.random() * garbage.length)]! };
  }
  return {
    kind: 'random_kid',
    token: `${b64(JSON.stringify({ alg: 'RS256', kid: randomBytes(16).toString('base64url') }))}.${poolPayload}.${poolSignature}`,
  };
}

const counts: Record<Kind, Record<number, number>> = { distinct: {}, pooled: {}, garbage: {}, random_kid: {} };
const expected: Record<Kind, number> = { distinct: 200, pooled: 200, garbage: 401, random_kid: 401 };
let sent = 0;
let wrong = 0;
let serverErrors = 0;
const started = Date.now();
const deadline = started + SECONDS * 1000;

console.log(
  `soak: ${SECONDS} s, ${DISTINCT} distinct valid tokens, concurrency ${CONCURRENCY}, server pid ${child.pid}, issuer ${issuer.url}`,
);
for (let i = 0; i < 1_000; i++) await get(`Bearer ${pool[i % pool.length]}`); // warm-up
const first = await sampleNow();
console.log('\n| t (s) | requests | req/s | distinct sent | RSS MB | heap used MB | live heap MB | wrong answers |');
console.log('|---:|---:|---:|---:|---:|---:|---:|---:|');
const row = (s: Sample, requests: number, rate: number) =>
  console.log(
    `| ${((s.at - started) / 1000).toFixed(0)} | ${requests} | ${rate.toFixed(0)} | ${distinctSent} | ${MB(s.rss)} | ${MB(s.heapUsed)} | ${MB(s.liveHeap)} | ${wrong} |`,
  );
row(first, 0, 0);

let lastSampleAt = Date.now();
let lastSent = 0;
async function worker(): Promise<void> {
  while (Date.now() < deadline && sent < MAX_REQUESTS) {
    const { kind, token } = next((Date.now() - started) / 1000);
    sent++;
    const status = await get(`Bearer ${token}`);
    counts[kind][status] = (counts[kind][status] ?? 0) + 1;
    if (status !== expected[kind]) wrong++;
    if (status >= 500) serverErrors++;
  }
}
const sampler = (async () => {
  while (Date.now() < deadline && sent < MAX_REQUESTS) {
    await new Promise((resolve) => setTimeout(resolve, 250));
    if (Date.now() - lastSampleAt >= SAMPLE_EVERY_S * 1000) {
      const s = await sampleNow();
      row(s, sent, ((sent - lastSent) * 1000) / (Date.now() - lastSampleAt));
      lastSampleAt = Date.now();
      lastSent = sent;
    }
  }
})();
await Promise.all([...Array.from({ length: CONCURRENCY }, worker), sampler]);
const last = await sampleNow();
row(last, sent, ((sent - lastSent) * 1000) / Math.max(1, Date.now() - lastSampleAt));

const peak = (pick: (s: Sample) => number | undefined) => Math.max(...samples.map((s) => pick(s) ?? 0));
const growth = (last.liveHeap ?? last.heapUsed) - (first.liveHeap ?? first.heapUsed);
console.log(`\n| | start | peak | end |\n|---|---:|---:|---:|`);
console.log(`| RSS (MB) | ${MB(first.rss)} | ${MB(peak((s) => s.rss))} | ${MB(last.rss)} |`);
console.log(`| heap used (MB) | ${MB(first.heapUsed)} | ${MB(peak((s) => s.heapUsed))} | ${MB(last.heapUsed)} |`);
console.log(`| live heap after GC (MB) | ${MB(first.liveHeap)} | ${MB(peak((s) => s.liveHeap))} | ${MB(last.liveHeap)} |`);
console.log(
  `\nrequests: ${sent} in ${((Date.now() - started) / 1000).toFixed(0)} s; distinct valid tokens sent: ${distinctSent}; JWKS fetches: ${issuer.jwksFetches}`,
);
console.log(`answers by kind: ${JSON.stringify(counts)}`);
const notOk = (byStatus: Record<number, number>) =>
  Object.entries(byStatus).reduce((n, [status, c]) => n + (status === '200' ? 0 : c), 0);
const validRefused = notOk(counts.distinct) + notOk(counts.pooled);
console.log(`wrong answers: ${wrong} (valid tokens not answered 200: ${validRefused}); 5xx: ${serverErrors}`);
console.log(`live heap growth: ${MB(growth)} MB (bound ${LIVE_HEAP_BOUND_MB} MB)`);
const serverWarnings = serverLog.filter((l) => /"level":(4|5|6)\d/.test(l));
console.log(
  `server log lines at warn or above: ${serverWarnings.length}${serverWarnings.length ? `\n${serverWarnings.slice(0, 5).join('\n')}` : ''}`,
);

child.send({ type: 'stop' });
await new Promise((resolve) => child.once('exit', resolve));
agent.destroy();
await issuer.close();
const problems = [
  ...(wrong > 0 ? [`${wrong} wrong answers`] : []),
  ...(serverErrors > 0 ? [`${serverErrors} answers 5xx`] : []),
  ...(growth > LIVE_HEAP_BOUND_MB * 2 ** 20 ? [`live heap grew ${MB(growth)} MB, past the bound`] : []),
  ...(distinctSent < DISTINCT ? [`only ${distinctSent} of ${DISTINCT} distinct tokens sent (raise SOAK_SECONDS)`] : []),
];
console.log(problems.length > 0 ? `\nsoak: FAILED: ${problems.join('; ')}` : '\nsoak: passed');
const failed = problems.length > 0;
process.exit(failed ? 1 : 0);
