/**
 * `npm run bench`: cyberark-bearer against its peers on one machine in one run, plus the
 * verify() micro-benchmark, a cold start, and memory with 100 000 tokens. Writes RESULTS.md.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, writeFileSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { createTestIssuer } from '../dist/testing.js';
import { contenders, DEFAULT_CONTENDERS } from './contenders.mjs';
import { here, load as loadWith, startServer as startContender } from './load.mjs';

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const ROUNDS = env('BENCH_ROUNDS', 8);
const DURATION = env('BENCH_DURATION', 2.5); // seconds per measured run (same, pool)
const WARMUP = env('BENCH_WARMUP', 3); // seconds of unmeasured load per server first
const CONNECTIONS = env('BENCH_CONNECTIONS', 16);
const FRESH_PER_RUN = env('BENCH_FRESH_TOKENS', 5000); // never-seen tokens per fresh run
const FRESH = FRESH_PER_RUN * ROUNDS;
const MEMORY_TOKENS = env('BENCH_MEMORY_TOKENS', 100_000);
const COLD_REPEATS = env('BENCH_COLD_REPEATS', 5); // cold starts, each on a new server process
const COLD_REQUESTS = 200; // concurrent requests in each
const names = process.env.BENCH_CONTENDERS ? process.env.BENCH_CONTENDERS.split(',') : DEFAULT_CONTENDERS;
for (const name of names)
  if (!contenders[name]) throw new Error(`unknown contender ${name} (known: ${Object.keys(contenders).join(', ')})`);
const scenarios = process.env.BENCH_SCENARIOS ? process.env.BENCH_SCENARIOS.split(',') : ['same', 'pool', 'pool-new', 'fresh'];
const log = (...args) => console.error(`[bench ${new Date().toISOString().slice(11, 19)}]`, ...args);

const issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api', tokenLifetime: 5 * 3600 });
const cfg = issuer.options;
const mint = (i) => issuer.mint({ scope: 'orders.read', jti: `t-${i}` });

log(`minting tokens: 1 + 1000 (pool) + ${FRESH} (fresh: ${FRESH_PER_RUN} per run) + 1000 (warm-up)`);
const tokens = {
  same: [mint('same')],
  pool: Array.from({ length: 1000 }, (_, i) => mint(`pool-${i}`)),
  fresh: Array.from({ length: FRESH }, (_, i) => mint(`fresh-${i}`)),
  warm: Array.from({ length: 1000 }, (_, i) => mint(`warm-${i}`)),
};

const startServer = (name, extraEnv = {}) => startContender(name, cfg, { env: extraEnv });
const load = (port, options) => loadWith(port, { connections: CONNECTIONS, ...options });

async function call(port, token) {
  const res = await fetch(`http://127.0.0.1:${port}/orders`, token ? { headers: { authorization: `Bearer ${token}` } } : {});
  return res.status;
}

/** Each contender must answer correctly before it is timed. */
async function sanityCheck(name, port) {
  const wrongScope = issuer.mint({ scope: 'orders.write' });
  const expired = issuer.mint({ scope: 'orders.read', exp: Math.floor(Date.now() / 1000) - 3600 });
  const got = [await call(port, tokens.same[0]), await call(port), await call(port, wrongScope), await call(port, expired)];
  const want = name === 'no auth' || name === 'empty middleware' ? [200, 200, 200, 200] : [200, 401, 403, 401];
  if (got.join() !== want.join()) throw new Error(`${name} answered ${got} instead of ${want}`);
}

/** One measured run on a contender's server: throughput, latency, and the server's CPU per request. */
async function measure(scenario, round, name, { port, stats }) {
  const before = await stats();
  // Fresh: each server gets its own run of never-seen tokens, continuing round after round.
  const set = scenario === 'fresh' ? undefined : tokens[scenario === 'pool-new' ? 'pool' : scenario];
  const { result, seconds } =
    set === undefined
      ? await load(port, { pick: (i) => tokens.fresh[round * FRESH_PER_RUN + i], amount: FRESH_PER_RUN })
      : await load(port, { pick: (i) => set[i % set.length], duration: DURATION });
  const after = await stats();
  const cpuMicros = after.cpu.user + after.cpu.system - before.cpu.user - before.cpu.system;
  const run = {
    rps: result.requests.total / seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    cpuPerRequest: cpuMicros / result.requests.total,
    bad: result.non2xx + result.errors + result.timeouts,
  };
  log(
    `${scenario} round ${round + 1}/${ROUNDS} ${name}: ${run.rps.toFixed(0)} req/s, p99 ${run.p99} ms, ${run.cpuPerRequest.toFixed(0)} us CPU/req${run.bad ? `, ${run.bad} BAD` : ''}`,
  );
  return run;
}

/**
 * One scenario: every contender's server is started once and warmed up, then measured in short
 * runs over many rounds, in rotating order, so that each round's runs are close in time. This
 * machine's speed drifts by tens of percent within a minute; ratios are taken per round.
 * `pool-new` instead starts a new server process for every run and measures it from its first
 * request, with no warm-up and no sanity check (its non-2xx column is the check): what the
 * clients of a just-deployed process see.
 */
async function runScenario(scenario) {
  const servers = new Map();
  const rows = {};
  try {
    if (scenario !== 'pool-new') {
      for (const name of names) {
        const server = startServer(name);
        const port = await server.ready;
        servers.set(name, { ...server, port });
        await sanityCheck(name, port);
        // Warm-up: JIT, JWKS, connections. Fresh runs warm up on other tokens, so theirs stay unseen.
        const warmSet = scenario === 'fresh' ? tokens.warm : tokens[scenario];
        await load(port, { pick: (i) => warmSet[i % warmSet.length], duration: WARMUP });
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      const order = names.map((_, k) => names[(k + round) % names.length]);
      for (const name of order) {
        if (scenario !== 'pool-new') {
          (rows[name] ??= []).push(await measure(scenario, round, name, servers.get(name)));
          continue;
        }
        const server = startServer(name);
        try {
          const port = await server.ready;
          (rows[name] ??= []).push(await measure(scenario, round, name, { port, stats: server.stats }));
        } finally {
          server.stop();
        }
      }
    }
    return rows;
  } finally {
    for (const server of servers.values()) server.stop();
  }
}

const median = (xs) => {
  const sorted = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
};
const results = {}; // scenario -> name -> [run per round]
for (const scenario of scenarios) results[scenario] = await runScenario(scenario);

function runChild(script, extraEnv = {}) {
  const out = execFileSync(process.execPath, ['--expose-gc', here(script)], {
    env: { ...process.env, BENCH_CONFIG: JSON.stringify(cfg), ...extraEnv },
    stdio: ['ignore', 'pipe', 'inherit'],
    maxBuffer: 64 * 1024 * 1024,
  });
  return JSON.parse(out.toString());
}

log('micro-benchmark of verify()');
const micro = runChild('./micro.mjs');
log('introspection: cache hits and cold calls to the test kit');
const introspection = runChild('./introspection.mjs', { BENCH_ROUNDS: String(ROUNDS) });
log('cold start');
const cold = { ours: [], floor: [] };
for (let i = 0; i < COLD_REPEATS; i++) {
  cold.ours.push(await coldStart('cyberark-bearer'));
  cold.floor.push(await coldStart('no auth'));
}
log(`memory with ${MEMORY_TOKENS} distinct tokens`);
const memory = runChild('./memory.mjs', { BENCH_MEMORY_TOKENS: String(MEMORY_TOKENS) });
await issuer.close();

/**
 * 200 concurrent requests, 200 clients' tokens, on a server that has never fetched the keys. Latency is taken in the
 * server (arrival to last byte), so the bench process, which also plays the issuer, cannot skew it.
 * The same burst on the "no auth" server is the floor: what answering 200 requests at once costs
 * this machine without any token check.
 */
async function coldStart(name) {
  const before = issuer.jwksFetches;
  const server = startServer(name, { BENCH_LATENCIES: '1' });
  const port = await server.ready;
  try {
    const statuses = await Promise.all(Array.from({ length: COLD_REQUESTS }, (_, i) => call(port, tokens.pool[i])));
    const stats = await server.stats();
    const slowestMs = Math.max(...stats.latencies);
    const fetchMs = stats.fetches[0] ?? 0;
    return {
      fetches: issuer.jwksFetches - before,
      statuses: [...new Set(statuses)],
      requests: stats.latencies.length,
      slowestMs,
      fetchMs,
      afterFetchMs: slowestMs - fetchMs,
    };
  } finally {
    server.stop();
  }
}

const PROFILE_HEADING = '## Where the CPU goes: profiles';
writeFileSync(here('./RESULTS.md'), report());
log('wrote bench/RESULTS.md');

/** The introspection scenario: hits against a JWT hit (ratios per round), then cold calls. */
function introspectionReport(r, f0) {
  const lines = ['## Introspection (in process, the test kit as the endpoint)', ''];
  lines.push(
    `The middleware's synchronous path (no HTTP in front), ${r.calls.toLocaleString('en')} calls per run, ${r.rounds} rounds in rotating order; ratios are taken per round, then the median. Cold calls: ${r.coldTokens} never-seen tokens verified one at a time, the kit answering on 127.0.0.1 in the same process.`,
    '',
  );
  lines.push('| cache hit | per second | µs each | × JWT cache hit (min–max) |', '|---|---|---|---|');
  const ratios = (name) => r.hits[name].map((v, i) => v / r.hits.jwt[i]);
  const row = (label, name) => {
    const rs = ratios(name);
    lines.push(
      `| ${label} | ${f0(median(r.hits[name]))} | ${(1e6 / median(r.hits[name])).toFixed(2)} | ${median(rs).toFixed(2)} (${Math.min(...rs).toFixed(2)}–${Math.max(...rs).toFixed(2)}) |`,
    );
  };
  row('JWT, local verification', 'jwt');
  row('opaque token, introspected', 'opaque');
  row('JWT on a route with `revocation: introspect` (both caches)', 'revocable');
  lines.push('');
  const pct = (xs, p) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))];
  lines.push('| first verification of a token | p50 ms | p99 ms |', '|---|---|---|');
  lines.push(`| JWT, keys held (signature check) | ${pct(r.cold.jwt, 0.5).toFixed(2)} | ${pct(r.cold.jwt, 0.99).toFixed(2)} |`);
  lines.push(
    `| opaque token (one introspection call) | ${pct(r.cold.opaque, 0.5).toFixed(2)} | ${pct(r.cold.opaque, 0.99).toFixed(2)} |`,
  );
  lines.push(
    `| JWT on a route with \`revocation: introspect\` (both) | ${pct(r.cold.revocable, 0.5).toFixed(2)} | ${pct(r.cold.revocable, 0.99).toFixed(2)} |`,
  );
  lines.push('', `Never-seen opaque tokens, 16 at a time: ${f0(r.cold.opaquePerSecond16)} per second.`, '');
  return lines;
}

function report() {
  const versions = (pkg) => {
    try {
      return JSON.parse(readFileSync(here(`./node_modules/${pkg}/package.json`))).version;
    } catch {
      return JSON.parse(readFileSync(here(`../node_modules/${pkg}/package.json`))).version;
    }
  };
  const own = JSON.parse(readFileSync(here('../package.json'))).version;
  const lines = [];
  const f0 = (n) => n.toFixed(0);
  const ratio = (a, b) => (b ? (a / b).toFixed(2) : 'n/a');
  lines.push('# Benchmark results', '');
  lines.push(
    `Written by \`npm run bench\` on ${new Date().toISOString().slice(0, 10)}. Only ratios within this one run mean anything: the machine is shared and noisy.`,
    '',
  );
  lines.push(
    `- Machine: ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'unknown CPU'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, ${os.platform()} ${os.release()}`,
  );
  lines.push(
    `- Node ${process.version}; Express ${versions('express')}; cyberark-bearer ${own} (jose ${versions('jose')}); express-oauth2-jwt-bearer ${versions('express-oauth2-jwt-bearer')}; express-jwt ${versions('express-jwt')} + jwks-rsa ${versions('jwks-rsa')}; aws-jwt-verify ${versions('aws-jwt-verify')}; fast-jwt ${versions('fast-jwt')} (+ get-jwks ${versions('get-jwks')}); autocannon ${versions('autocannon')}`,
  );
  lines.push(
    `- Load: autocannon in the bench process, ${CONNECTIONS} connections, to one long-lived server process per contender on 127.0.0.1, each warmed up for ${WARMUP} s; then ${ROUNDS} rounds of one ${DURATION} s run per contender (fresh: ${FRESH_PER_RUN} never-seen tokens per run), contenders in rotating order. The new-process pool row starts a new server process for each run instead and measures it from its first request (its ${DURATION} s include the key fetch, the JIT warming up and each client's first check). RS256 tokens of 2048-bit keys, CyberArk-shaped claims, one route requiring \`orders.read\`.`,
  );
  lines.push(
    "- Ratios are computed within each round (runs seconds apart) and the median over rounds is shown, because this machine's speed drifts by tens of percent within a minute; req/s, latency and CPU columns are medians over rounds. CPU is the server process's user+system time per request, all its threads included.",
    '',
  );
  const scenarioTitle = {
    same: 'Same token on every request',
    pool: "Pool of 1 000 clients' tokens in rotation",
    'pool-new': "Pool of 1 000 clients' tokens on a new process, from its first request (no warm-up)",
    fresh: 'Fresh token on every request (pure verification cost)',
  };
  for (const scenario of scenarios) {
    const rows = results[scenario];
    const med = (name, key) => median(rows[name].map((r) => r[key]));
    // Ratio per round (runs seconds apart), then the median over rounds: the machine's drift cancels.
    const ratioTo = (name, base) => (rows[base] ? median(rows[name].map((r, i) => r.rps / rows[base][i].rps)).toFixed(2) : 'n/a');
    const spread = (name, base) => {
      if (!rows[base]) return '';
      const ratios = rows[name].map((r, i) => r.rps / rows[base][i].rps);
      return ` (${Math.min(...ratios).toFixed(2)}–${Math.max(...ratios).toFixed(2)})`;
    };
    lines.push(`## ${scenarioTitle[scenario]}`, '');
    lines.push(
      '| contender | × no auth (min–max over rounds) | × express-oauth2-jwt-bearer | req/s | p50 ms | p99 ms | CPU µs/req | non-2xx |',
    );
    lines.push('|---|---|---|---|---|---|---|---|');
    for (const name of names) {
      const runs = rows[name];
      lines.push(
        `| ${name === 'cyberark-bearer' ? '**cyberark-bearer**' : name} | ${ratioTo(name, 'no auth')}${spread(name, 'no auth')} | ${ratioTo(name, 'express-oauth2-jwt-bearer')} | ${f0(med(name, 'rps'))} | ${med(name, 'p50')} | ${med(name, 'p99')} | ${f0(med(name, 'cpuPerRequest'))} | ${runs.reduce((a, r) => a + r.bad, 0)} |`,
      );
    }
    lines.push('');
  }
  lines.push('## verify() micro-benchmark (in process, no HTTP)', '');
  lines.push('| operation | per second | µs each |', '|---|---|---|');
  for (const row of micro) lines.push(`| ${row.label} | ${f0(row.perSecond)} | ${(1e6 / row.perSecond).toFixed(2)} |`);
  lines.push('');
  lines.push(...introspectionReport(introspection, f0));
  lines.push(`## Cold start: ${COLD_REQUESTS} clients at once on a server that has no keys yet`, '');
  const fetchCounts = [...new Set(cold.ours.map((c) => c.fetches))].join(', ');
  const statuses = [...new Set(cold.ours.flatMap((c) => c.statuses))].join(', ');
  const ms = (values) => `${median(values).toFixed(1)} ms (${Math.min(...values).toFixed(1)}–${Math.max(...values).toFixed(1)})`;
  lines.push(
    `${COLD_REPEATS} times, each on a new server process: ${COLD_REQUESTS} concurrent requests with ${COLD_REQUESTS} distinct tokens (no two can share a check). Times are taken in the server, from a request's arrival to its last byte; median (min–max) over the repeats.`,
    '',
  );
  lines.push('| | value |', '|---|---|');
  lines.push(`| JWKS fetches per cold start | **${fetchCounts}** |`);
  lines.push(`| statuses | ${statuses} |`);
  lines.push(`| the key fetch (server log) | ${ms(cold.ours.map((c) => c.fetchMs))} |`);
  lines.push(`| slowest request, cyberark-bearer | ${ms(cold.ours.map((c) => c.slowestMs))} |`);
  lines.push(`| slowest request minus the fetch | ${ms(cold.ours.map((c) => c.afterFetchMs))} |`);
  lines.push(`| slowest request, no auth, the same burst (the floor) | ${ms(cold.floor.map((c) => c.slowestMs))} |`);
  lines.push('');
  lines.push(`## Memory: ${MEMORY_TOKENS.toLocaleString('en')} distinct valid tokens through verify()`, '');
  lines.push(
    'Each token is verified twice (every one is admitted while the cache has room, up to its size: the worst case); the process also holds all the minted tokens, which the cache-off row shows as the baseline.',
    '',
  );
  lines.push(
    '| token cache (max entries) | entries held | RSS before → after (MiB) | heap used after GC (MiB) | heap per entry (KiB) | verifications/s |',
    '|---|---|---|---|---|---|',
  );
  const base = memory.find((row) => row.max === 0);
  for (const row of memory) {
    const perEntry = row.size && base ? (((row.heapAfterGc - base.heapAfterGc) * 1024) / row.size).toFixed(1) : '—';
    lines.push(
      `| ${row.max} | ${row.size} | ${row.rssBefore} → ${row.rssAfter} | ${row.heapAfterGc} | ${perEntry} | ${f0(row.perSecond)} |`,
    );
  }
  lines.push('');
  // The profile section is written by hand (bench/profile.mjs prints it): kept across runs.
  const previous = existsSync(here('./RESULTS.md')) ? readFileSync(here('./RESULTS.md'), 'utf8') : '';
  const profiles = previous.indexOf(PROFILE_HEADING);
  if (profiles !== -1) lines.push(previous.slice(profiles).trimEnd(), '');
  return lines.join('\n');
}
