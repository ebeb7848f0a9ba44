/**
 * Introspection next to local verification, in process: a cache hit of an opaque token against a
 * cache hit of a JWT (the middleware's synchronous path, no HTTP in front), and the latency of
 * cold introspection calls to the test kit on 127.0.0.1. Prints JSON on stdout.
 */
import { pino } from 'pino';
import { createBearerAuth } from '../dist/index.js';
import { createTestIssuer, randomSecret } from '../dist/testing.js';

const env = (name, fallback) => (process.env[name] ? Number(process.env[name]) : fallback);
const ROUNDS = env('BENCH_ROUNDS', 8);
const CALLS = env('BENCH_HIT_CALLS', 300_000); // middleware calls per measured run
const COLD = env('BENCH_COLD_TOKENS', 300); // distinct tokens per cold measurement

const api = { clientId: 'svc-bench@cyberark.cloud.0000', clientSecret: randomSecret() };
const issuer = await createTestIssuer({ appId: 'bench', audience: 'bench', clients: [api] });
const introspection = { ...api, cacheTtl: 3600, newTokensPerSecond: 100_000, maxConcurrent: 64 };
const auth = createBearerAuth({ ...issuer.options, tokens: 'any', introspection, logger: pino({ level: 'silent' }) });
await auth.ready();

const claims = (i) => ({ scope: 'orders.read', jti: `bench-${i}` });
const jwt = issuer.mint(claims('jwt'));
const opaque = issuer.mintOpaque(claims('opaque'));
const revocable = issuer.mint(claims('revocable'));

/** Node-shaped requests through a guard, synchronously answered from the caches: calls per second. */
function hitRate(guard, token, calls) {
  const req = {
    method: 'GET',
    url: '/orders',
    headers: { host: '127.0.0.1', authorization: `Bearer ${token}` },
    rawHeaders: ['Host', '127.0.0.1', 'Authorization', `Bearer ${token}`],
  };
  let passed = 0;
  const next = (error) => {
    if (error === undefined) passed++;
  };
  const t0 = performance.now();
  for (let i = 0; i < calls; i++) guard(req, {}, next);
  const seconds = (performance.now() - t0) / 1000;
  if (passed !== calls) throw new Error(`only ${passed} of ${calls} requests passed synchronously: not a cache hit`);
  return calls / seconds;
}

const plain = auth.requireToken('orders.read');
const checked = auth.requireToken('orders.read', { revocation: 'introspect' });
for (const token of [jwt, jwt, opaque, revocable, revocable])
  await auth.verify(token, token === revocable ? { revocation: 'introspect' } : undefined);
for (const [guard, token] of [
  [plain, jwt],
  [plain, opaque],
  [checked, revocable],
])
  hitRate(guard, token, 50_000); // warm-up

const hits = { jwt: [], opaque: [], revocable: [] };
for (let round = 0; round < ROUNDS; round++) {
  // Rotating order, so that the machine's drift falls on each in turn.
  const runs = [
    ['jwt', () => hitRate(plain, jwt, CALLS)],
    ['opaque', () => hitRate(plain, opaque, CALLS)],
    ['revocable', () => hitRate(checked, revocable, CALLS)],
  ];
  for (let k = 0; k < runs.length; k++) {
    const [name, run] = runs[(k + round) % runs.length];
    hits[name].push(run());
  }
}

/** Milliseconds of each first verification, one at a time, of `tokens` never seen before. */
async function coldLatencies(tokens, route) {
  const ms = [];
  for (const token of tokens) {
    const t0 = performance.now();
    await auth.verify(token, route);
    ms.push(performance.now() - t0);
  }
  return ms;
}

/** Never-seen tokens verified `concurrency` at a time: per second. */
async function coldRate(tokens, concurrency) {
  const t0 = performance.now();
  for (let i = 0; i < tokens.length; i += concurrency)
    await Promise.all(tokens.slice(i, i + concurrency).map((t) => auth.verify(t)));
  return tokens.length / ((performance.now() - t0) / 1000);
}

const fresh = (prefix, mint) => Array.from({ length: COLD }, (_, i) => mint(claims(`${prefix}-${i}`)));
await coldLatencies(fresh('warm-opaque', issuer.mintOpaque), undefined); // JIT and connections
await coldLatencies(fresh('warm-jwt', issuer.mint), undefined);
const cold = {
  opaque: await coldLatencies(fresh('cold-opaque', issuer.mintOpaque), undefined),
  jwt: await coldLatencies(fresh('cold-jwt', issuer.mint), undefined),
  revocable: await coldLatencies(fresh('cold-revocable', issuer.mint), { revocation: 'introspect' }),
  opaquePerSecond16: await coldRate(fresh('rate-opaque', issuer.mintOpaque), 16),
  introspections: issuer.introspections,
};
await issuer.close();
process.stdout.write(JSON.stringify({ rounds: ROUNDS, calls: CALLS, coldTokens: COLD, hits, cold }));
