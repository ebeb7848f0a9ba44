/**
 * `node bench/profile.mjs`: where a contender's server spends its CPU per request, scenario by
 * scenario, side by side. Each contender's server runs in its own process, is warmed up, then
 * profiled over one window of load: V8's CPU profile (main thread, self time per function),
 * CPU time per thread (main, libuv pool, V8 helpers, from /proc), GC counts and a sampling
 * allocation profile. Prints the tables; the raw profiles go to PROFILE_DIR for DevTools.
 *
 *   PROFILE_CONTENDERS='no auth,cyberark-bearer,jose (minimal)'  PROFILE_SCENARIOS=same,pool,fresh,first
 *   PROFILE_REQUESTS=20000 (same, pool; fresh: a third)  PROFILE_TOP=15  PROFILE_DIR=.tmp/profiles
 *
 * `first` profiles a new process from its first request: 1 000 clients' tokens, no warm-up.
 *
 * With PROFILE_PERF=1 (Linux, `perf` installed), `perf record` samples the server's CPU time
 * instead, every thread, grouped by where the code lives: V8's sampler counts wall time, so on a
 * busy machine a function that wakes another thread (WebCrypto's job dispatch) looks dearer than
 * it is, and V8's samplers cost CPU themselves. perf for CPU; V8's for call stacks and allocations.
 */
import { execFileSync, spawn } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { createTestIssuer } from '../dist/testing.js';
import { contenders } from './contenders.mjs';
import { here, load, startServer } from './load.mjs';

const list = (name, fallback) => (process.env[name] ? process.env[name].split(',') : fallback);
const names = list('PROFILE_CONTENDERS', ['no auth', 'cyberark-bearer', 'jose (minimal)']);
for (const name of names) if (!contenders[name]) throw new Error(`unknown contender ${name}`);
const scenarios = list('PROFILE_SCENARIOS', ['same', 'pool', 'fresh', 'first']);
const REQUESTS = Number(process.env.PROFILE_REQUESTS ?? 20_000);
const FRESH = Math.ceil(REQUESTS / 3);
const TOP = Number(process.env.PROFILE_TOP ?? 15);
const CONNECTIONS = Number(process.env.PROFILE_CONNECTIONS ?? 16);
const WARMUP_SECONDS = 3;
const PERF = process.env.PROFILE_PERF === '1';
const dir = path.resolve(process.env.PROFILE_DIR ?? here('../.tmp/profiles'));
mkdirSync(dir, { recursive: true });
const log = (...args) => console.error(`[profile ${new Date().toISOString().slice(11, 19)}]`, ...args);

const issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api', tokenLifetime: 5 * 3600 });
const cfg = issuer.options;
const mint = (i) => issuer.mint({ scope: 'orders.read', jti: `t-${i}` });
const freshRuns = scenarios.includes('fresh') ? names.length : 0;
log(`minting ${2001 + FRESH * freshRuns} tokens`);
const tokens = {
  same: [mint('same')],
  pool: Array.from({ length: 1000 }, (_, i) => mint(`pool-${i}`)),
  warm: Array.from({ length: 1000 }, (_, i) => mint(`warm-${i}`)),
  fresh: Array.from({ length: FRESH * freshRuns }, (_, i) => mint(`fresh-${i}`)),
};

/** One contender in one scenario: its server, a warm-up (unless `first`), one profiled window. */
async function profileOne(scenario, name, run) {
  const server = startServer(name, cfg, { execArgv: PERF ? ['--perf-basic-prof-only-functions'] : [] });
  const port = await server.ready;
  try {
    const rotate = (set) => (i) => set[i % set.length];
    let pick = rotate(scenario === 'same' ? tokens.same : tokens.pool);
    let amount = REQUESTS;
    if (scenario === 'fresh') {
      pick = (i) => tokens.fresh[run * FRESH + i];
      amount = FRESH;
    }
    if (scenario !== 'first') {
      await load(port, {
        pick: rotate(scenario === 'fresh' ? tokens.warm : scenario === 'same' ? tokens.same : tokens.pool),
        duration: WARMUP_SECONDS,
        connections: CONNECTIONS,
      });
    }
    const file = path.join(dir, `${scenario}-${name.replace(/[^a-z0-9]+/gi, '-')}`);
    await server.ask({ type: 'profile', action: 'start', v8: !PERF });
    const perf = PERF ? await startPerf(server.child.pid, `${file}.perf.data`) : undefined;
    const { result } = await load(port, { pick, amount, connections: CONNECTIONS });
    await perf?.stop();
    const after = await server.ask({ type: 'profile', action: 'stop', file, v8: !PERF });
    const bad = result.non2xx + result.errors + result.timeouts;
    if (bad) throw new Error(`${name} answered ${bad} of ${result.requests.total} requests wrongly`);
    const requests = result.requests.total;
    return { name, scenario, requests, threads: after.threads, gc: after.gc, file, pid: server.child.pid };
  } finally {
    server.stop();
  }
}

/** `perf record` of one process's CPU time (all threads, call stacks) until `stop()`. */
async function startPerf(pid, output) {
  const child = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '1999', '-g', '-p', String(pid), '-o', output], {
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const exited = new Promise((resolve) => child.once('exit', resolve));
  await new Promise((resolve) => setTimeout(resolve, 300)); // perf attaches
  return {
    stop: async () => {
      child.kill('SIGINT');
      if ((await exited) !== 0 && !stderr.includes('Captured')) throw new Error(`perf record failed: ${stderr}`);
    },
  };
}

/** Self CPU time per symbol from perf: share of the samples, by thread (main or other), highest first. */
function perfSelfTimes(file, pid) {
  const text = execFileSync(
    'perf',
    ['report', '-i', `${file}.perf.data`, '--no-children', '-g', 'none', '--sort', 'pid,sym', '--stdio', '--percent-limit', '0'],
    { encoding: 'utf8', maxBuffer: 64 << 20, stdio: ['ignore', 'pipe', 'ignore'] },
  );
  const rows = [];
  for (const line of text.split('\n')) {
    const m = /^\s+([\d.]+)%\s+(\d+):\S*\s+\[(.)\]\s+(.*)$/.exec(line);
    if (!m) continue;
    const symbol = m[4]
      .trim()
      .replace(/file:\/\/\S*?\/(node_modules|dist)\//, '$1/')
      .replace(/^(JS|LazyCompile|Function):[*~^]?/, '');
    rows.push({
      share: Number(m[1]) / 100,
      thread: Number(m[2]) === pid ? 'main' : 'other',
      kind: m[3] === 'k' ? 'kernel' : 'user',
      symbol,
    });
  }
  return rows;
}

/**
 * Self time per function, from a .cpuprofile, `(idle)` left out: its share of the samples, and
 * that share of the main thread's CPU time per request (the sampler counts wall time, which on a
 * busy machine includes time the thread waited for a core).
 */
function selfTimes(file, mainPerRequest) {
  const profile = JSON.parse(readFileSync(`${file}.cpuprofile`, 'utf8'));
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  const self = new Map();
  let total = 0;
  profile.samples.forEach((id, k) => {
    const { callFrame } = byId.get(id);
    if (callFrame.functionName === '(idle)') return;
    const dt = profile.timeDeltas[k + 1] ?? 0;
    const where = callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : '';
    const key = `${callFrame.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  });
  return [...self]
    .sort((a, b) => b[1] - a[1])
    .map(([key, us]) => ({ key, share: us / total, perRequest: (us / total) * mainPerRequest }));
}

/** Allocated bytes per request by allocating function, from a sampling .heapprofile. */
function allocations(file, requests) {
  const profile = JSON.parse(readFileSync(`${file}.heapprofile`, 'utf8'));
  const bytes = new Map();
  let total = 0;
  const walk = (node) => {
    const size = node.selfSize ?? 0;
    if (size) {
      const { callFrame } = node;
      const key =
        `${callFrame.functionName || '(anonymous)'} ${callFrame.url ? `${shortUrl(callFrame.url)}:${callFrame.lineNumber + 1}` : ''}`.trim();
      bytes.set(key, (bytes.get(key) ?? 0) + size);
      total += size;
    }
    for (const child of node.children ?? []) walk(child);
  };
  walk(profile.head);
  const rows = [...bytes].sort((a, b) => b[1] - a[1]).map(([key, b]) => ({ key, perRequest: b / requests }));
  return { rows, perRequest: total / requests };
}

function shortUrl(url) {
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 13);
  if (url.includes('/dist/')) return `dist/${url.slice(url.lastIndexOf('/dist/') + 6)}`;
  return url.replace(/^file:\/\/.*\//, '');
}

/** Where a perf symbol's code lives. */
function category(row) {
  const { symbol, kind } = row;
  if (kind === 'kernel') return 'kernel (syscalls, scheduling, network)';
  if (/node_modules\/jose\//.test(symbol)) return 'jose (JS)';
  if (/^\S+ dist\//.test(symbol)) return 'cyberark-bearer (JS)';
  if (/node_modules\//.test(symbol) || /contenders\.mjs|server\.mjs/.test(symbol)) return 'Express, router, peers (JS)';
  if (/\bnode:/.test(symbol)) return 'Node.js internals (JS)';
  if (/^Builtins_|^(JS|LazyCompile|Function|Script):/.test(symbol)) return 'V8 builtins, stubs, other JS';
  if (/Heap|Scaveng|MarkCompact|Marking|Sweep|Evacuat|MemoryChunk|Marker|Minor/.test(symbol)) return 'V8 garbage collector';
  if (/^v8::/.test(symbol)) return 'V8 runtime';
  if (/^node::|^uv_|^uv__/.test(symbol)) return 'Node.js and libuv (C++)';
  return 'native (OpenSSL, libc)';
}

const f1 = (n) => n.toFixed(1);
const results = [];
for (const scenario of scenarios) {
  for (const [run, name] of names.entries()) {
    log(`${scenario}: ${name}`);
    const r = await profileOne(scenario, name, run);
    const perRequest = (seconds) => (seconds * 1e6) / r.requests;
    const main = perRequest(r.threads.main ?? 0);
    // The V8 profiler's own thread is left out; its signals still cost the main thread a little.
    const others = Object.entries(r.threads).filter(([t, sec]) => sec > 0 && t !== 'main' && !t.startsWith('v8:Prof'));
    const all = main + others.reduce((sum, [, sec]) => sum + perRequest(sec), 0);
    const gcs = Object.entries(r.gc)
      .map(([kind, g]) => `${kind} ${f1((g.count * 1000) / r.requests)} (${f1((g.ms * 1000) / r.requests)} ms)`)
      .join(', ');
    console.log(`\n### ${scenario} — ${name}: ${r.requests} requests`);
    console.log(
      `CPU µs/request (/proc, 10 ms ticks): ${f1(all)}: main thread ${f1(main)}${others.map(([t, sec]) => `, ${t} ${f1(perRequest(sec))}`).join('')}`,
    );
    console.log(`GC per 1 000 requests: ${gcs || 'none'}`);
    const entry = { ...r, main, all };
    if (PERF) {
      const rows = perfSelfTimes(r.file, r.pid);
      const groups = new Map();
      for (const row of rows) groups.set(category(row), (groups.get(category(row)) ?? 0) + row.share);
      console.log('\nperf (CPU time, all threads), by where the code lives:\n\n| self % | µs/req | code |\n|---:|---:|---|');
      for (const [group, share] of [...groups].sort((a, b) => b[1] - a[1]))
        console.log(`| ${f1(share * 100)} | ${f1(share * all)} | ${group} |`);
      console.log('\nperf, top symbols:\n\n| self % | µs/req | thread | symbol |\n|---:|---:|---|---|');
      for (const row of rows.slice(0, TOP))
        console.log(
          `| ${f1(row.share * 100)} | ${f1(row.share * all)} | ${row.thread} | ${row.kind === 'kernel' ? '[kernel] ' : ''}${row.symbol} |`,
        );
      entry.perf = rows.slice(0, 80);
    } else {
      const cpu = selfTimes(r.file, main);
      const heap = allocations(r.file, r.requests);
      console.log(`Allocated ≈ ${f1(heap.perRequest / 1024)} KiB/request (sampled, short-lived objects included)`);
      console.log(
        "\nV8 sampler, main thread (wall time; µs = its share of the main thread's CPU):\n\n| self % | µs/req | function |\n|---:|---:|---|",
      );
      for (const row of cpu.slice(0, TOP)) console.log(`| ${f1(row.share * 100)} | ${f1(row.perRequest)} | ${row.key} |`);
      console.log('\n| bytes/req | allocated by |\n|---:|---|');
      for (const row of heap.rows.slice(0, Math.ceil(TOP / 2))) console.log(`| ${row.perRequest.toFixed(0)} | ${row.key} |`);
      Object.assign(entry, { cpu: cpu.slice(0, 50), heap: heap.rows.slice(0, 30) });
    }
    results.push(entry);
  }
}
writeFileSync(path.join(dir, 'summary.json'), JSON.stringify(results, null, 1));
await issuer.close();
log(`profiles in ${dir}`);
