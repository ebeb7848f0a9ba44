/**
 * Memory with many distinct valid tokens: each verified twice through verify(), as a server
 * would see them arrive, with the token cache at several sizes. Prints JSON rows on stdout.
 */
import { pino } from 'pino';
import { createBearerAuth } from '../dist/index.js';
import { createTestIssuer } from '../dist/testing.js';

const COUNT = Number(process.env.BENCH_MEMORY_TOKENS ?? 100_000);
const issuer = await createTestIssuer({ appId: 'memory', audience: 'memory' });
const tokens = Array.from({ length: COUNT }, (_, i) => issuer.mint({ scope: 'orders.read', jti: String(i) }));
const mib = (bytes) => (bytes / 2 ** 20).toFixed(0);
const rows = [];
for (const max of [0, 10_000, 100_000]) {
  global.gc();
  const rssBefore = process.memoryUsage().rss;
  const auth = createBearerAuth({ ...issuer.options, logger: pino({ level: 'silent' }), tokenCache: { max } });
  const t0 = performance.now();
  for (let i = 0; i < COUNT; i += 16) {
    // A new string per call, as a request would bring: the cache then holds its own copies.
    // Each token arrives twice; every one is admitted while the cache has room (the worst case for memory).
    const batch = tokens.slice(i, i + 16);
    await Promise.all(batch.map((t) => auth.verify(Buffer.from(t).toString())));
    await Promise.all(batch.map((t) => auth.verify(Buffer.from(t).toString())));
  }
  const perSecond = (2 * COUNT) / ((performance.now() - t0) / 1000);
  global.gc();
  const after = process.memoryUsage();
  // How many entries are held: a cached token answers with the very same object.
  const probe = tokens.slice(-Math.min(COUNT, max || 1));
  const size =
    max === 0
      ? 0
      : (await Promise.all(probe.map(async (t) => (await auth.verify(t)) === (await auth.verify(t))))).filter(Boolean).length;
  rows.push({
    max,
    size,
    rssBefore: Number(mib(rssBefore)),
    rssAfter: Number(mib(after.rss)),
    heapAfterGc: Number(mib(after.heapUsed)),
    perSecond,
  });
}
await issuer.close();
process.stdout.write(JSON.stringify(rows));
