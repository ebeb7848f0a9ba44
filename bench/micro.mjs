/**
 * verify() per second, cache hit and miss, next to the floor of a signature check: raw
 * crypto.verify of the same RS256 token; and the middleware on never-seen tokens against a
 * hand-written jose guard, in CPU time. In process, no HTTP. Prints JSON rows on stdout.
 */
import { createPublicKey, verify as rawVerify } from 'node:crypto';
import { pino } from 'pino';
import { createRemoteJWKSet, jwtVerify, importJWK } from 'jose';
import { createBearerAuth } from '../dist/index.js';
import { createTestIssuer } from '../dist/testing.js';

const issuer = await createTestIssuer({ appId: 'micro', audience: 'micro' });
const auth = createBearerAuth({ ...issuer.options, logger: pino({ level: 'silent' }) });
await auth.ready();
const token = issuer.mint({ scope: 'orders.read' });
const distinct = Array.from({ length: 6000 }, (_, i) => issuer.mint({ scope: 'orders.read', jti: String(i) }));
const jwk = issuer.jwks().keys[0];
const keyObject = createPublicKey({ key: jwk, format: 'jwk' });
const cryptoKey = await importJWK(jwk, 'RS256');
const dot = token.lastIndexOf('.');
const signingInput = Buffer.from(token.slice(0, dot));
const signature = Buffer.from(token.slice(dot + 1), 'base64url');

/** Runs `fn` for about `ms` milliseconds after a warm-up; returns calls per second. */
async function rate(fn, ms = 1500) {
  for (let i = 0; i < 2000; i++) await fn(i);
  let calls = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 1000; k++) await fn(calls++);
  }
  return calls / ((performance.now() - t0) / 1000);
}

/** Calls per second of `fn` over the distinct tokens, `concurrency` at a time. */
async function passRate(fn, concurrency) {
  const t0 = performance.now();
  for (let i = 0; i < distinct.length; i += concurrency) {
    await Promise.all(distinct.slice(i, i + concurrency).map(fn));
  }
  return distinct.length / ((performance.now() - t0) / 1000);
}

/**
 * Misses: every call a token this verifier has not seen (a new verifier per pass). A first,
 * untimed pass warms the JIT up, as `rate()` does for the other rows.
 */
async function missRate(concurrency) {
  const fresh = async () => {
    const verifier = createBearerAuth({ ...issuer.options, logger: pino({ level: 'silent' }), tokenCache: { max: 10_001 } });
    await verifier.ready();
    return verifier;
  };
  const warm = await fresh();
  await passRate((t) => warm.verify(t), concurrency);
  const verifier = await fresh();
  return passRate((t) => verifier.verify(t), concurrency);
}

/** jose alone, with the same checks and the key already imported: what a miss cannot beat. */
async function joseRate(concurrency) {
  const opts = { algorithms: ['RS256'], issuer: issuer.issuer, audience: 'micro' };
  await passRate((t) => jwtVerify(t, cryptoKey, opts), concurrency);
  return passRate((t) => jwtVerify(t, cryptoKey, opts), concurrency);
}

/**
 * The middleware itself on a cache hit, with Node-shaped requests and no HTTP: what our layer adds
 * to a request, apart from Express's cost of calling one more middleware.
 */
function middlewareRate(tokens, guard = auth) {
  const requireToken = guard.requireToken('orders.read');
  const requests = tokens.map((t) => ({
    method: 'GET',
    url: '/orders',
    headers: { host: '127.0.0.1', authorization: `Bearer ${t}` },
    rawHeaders: ['Host', '127.0.0.1', 'Authorization', `Bearer ${t}`],
  }));
  let passed = 0;
  const next = (error) => {
    if (error === undefined) passed++;
  };
  const pass = (rounds) => {
    for (let r = 0; r < rounds; r++) for (const req of requests) requireToken(req, {}, next);
  };
  pass(Math.ceil(50_000 / requests.length));
  passed = 0;
  const rounds = Math.ceil(1_000_000 / requests.length);
  const t0 = performance.now();
  pass(rounds);
  const seconds = (performance.now() - t0) / 1000;
  if (passed !== rounds * requests.length) throw new Error(`middleware passed ${passed} of ${rounds * requests.length} requests`);
  return passed / seconds;
}
/**
 * Never-seen tokens through the middleware and through the guard a careful user writes with
 * jose (createRemoteJWKSet + jwtVerify + the scope check), as Node-shaped requests, 16 in
 * flight. Measured in CPU time (every thread: WebCrypto checks in libuv's pool), in batches
 * that alternate between the two, so that a busy machine's drift hits both alike.
 */
async function freshMiddlewareCpu() {
  const BATCH = 64;
  const BATCHES = 40;
  const tokens = Array.from({ length: (BATCHES + 5) * BATCH * 2 }, (_, i) =>
    issuer.mint({ scope: 'orders.read', jti: `fresh-${i}` }),
  );
  const fresh = createBearerAuth({ ...issuer.options, logger: pino({ level: 'silent' }) });
  await fresh.ready();
  const requireToken = fresh.requireToken('orders.read');
  const ours = (req) =>
    new Promise((resolve, reject) =>
      requireToken(req, { setHeader() {}, end: () => reject(new Error('refused')) }, (e) => (e ? reject(e) : resolve())),
    );
  const jwks = createRemoteJWKSet(new URL(issuer.options.jwksUri));
  const options = { issuer: issuer.options.issuer, audience: issuer.options.audience, algorithms: ['RS256'] };
  const jose = async (req) => {
    const { payload } = await jwtVerify(/^Bearer ([^ ]+)$/i.exec(req.headers.authorization)[1], jwks, options);
    if (!(typeof payload.scope === 'string' && payload.scope.split(' ').includes('orders.read'))) throw new Error('scope');
    req.auth = payload;
  };
  let next = 0;
  const cpu = () => {
    const { user, system } = process.cpuUsage();
    return user + system;
  };
  const batch = async (fn) => {
    // New header strings, as requests bring them.
    const requests = tokens.slice(next, (next += BATCH)).map((t) => {
      const authorization = Buffer.from(`Bearer ${t}`).toString();
      return {
        method: 'GET',
        url: '/orders',
        headers: { host: 'h', authorization },
        rawHeaders: ['Host', 'h', 'Authorization', authorization],
      };
    });
    const c0 = cpu();
    for (let i = 0; i < requests.length; i += 16) await Promise.all(requests.slice(i, i + 16).map(fn));
    return cpu() - c0;
  };
  for (let i = 0; i < 5; i++) await Promise.all([batch(ours), batch(jose)]);
  const runs = { ours: [], jose: [] };
  for (let i = 0; i < BATCHES; i++) {
    for (const [name, fn] of i % 2
      ? [
          ['ours', ours],
          ['jose', jose],
        ]
      : [
          ['jose', jose],
          ['ours', ours],
        ])
      runs[name].push(await batch(fn));
  }
  // The median batch: a GC pause or another process's burst lands in few batches.
  const perSecond = (micros) => (1e6 * BATCH) / [...micros].sort((a, b) => a - b)[BATCHES >> 1];
  return { ours: perSecond(runs.ours), jose: perSecond(runs.jose) };
}

const pool = distinct.slice(0, 1000);
for (const t of [token, ...pool]) await auth.verify(t); // admitted at first sight: the cache has room

// The same pool through three issuers, each with its own audience, routed by `iss`, and a claim rule.
const others = await Promise.all(['micro-b', 'micro-c'].map((appId) => createTestIssuer({ appId, audience: appId })));
const multi = createBearerAuth({
  issuers: [issuer, ...others].map(({ options: { issuer: iss, jwksUri, audience } }) => ({ issuer: iss, jwksUri, audience })),
  claims: { app_id: 'micro' },
  logger: pino({ level: 'silent' }),
});
for (const t of pool) await multi.verify(t);

const rows = [];
rows.push({ label: 'cyberark-bearer verify(), cache hit (awaited one by one)', perSecond: await rate(() => auth.verify(token)) });
rows.push({ label: 'requireToken() middleware, cache hit, one token (no HTTP)', perSecond: middlewareRate([token]) });
rows.push({ label: 'requireToken() middleware, cache hit, pool of 1 000 tokens (no HTTP)', perSecond: middlewareRate(pool) });
rows.push({
  label: 'requireToken() middleware, cache hit, pool of 1 000 tokens, 3 issuers and a claim rule (no HTTP)',
  perSecond: middlewareRate(pool, multi),
});
rows.push({ label: 'cyberark-bearer verify(), cache miss (one by one)', perSecond: await missRate(1) });
rows.push({ label: 'cyberark-bearer verify(), cache miss (16 in flight)', perSecond: await missRate(16) });
rows.push({ label: 'jose jwtVerify() with an imported CryptoKey (one by one)', perSecond: await joseRate(1) });
rows.push({ label: 'jose jwtVerify() with an imported CryptoKey (16 in flight)', perSecond: await joseRate(16) });
const freshCpu = await freshMiddlewareCpu();
rows.push({
  label: 'requireToken() middleware, never-seen token (16 in flight; CPU time, all threads)',
  perSecond: freshCpu.ours,
});
rows.push({ label: 'hand-written jose guard, never-seen token (16 in flight; CPU time, all threads)', perSecond: freshCpu.jose });
rows.push({
  label: 'raw crypto.verify() of the same RS256 signature (the floor)',
  perSecond: await rate(() => rawVerify('sha256', signingInput, keyObject, signature), 1000),
});
await Promise.all([issuer, ...others].map((i) => i.close()));
process.stdout.write(JSON.stringify(rows));
