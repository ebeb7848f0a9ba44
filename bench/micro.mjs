/**
 * verify() per second, cache hit and miss, next to the floor of a signature check: raw
 * crypto.verify of the same RS256 token. In process, no HTTP. Prints JSON rows on stdout.
 */
import { createPublicKey, verify as rawVerify } from 'node:crypto';
import { pino } from 'pino';
import { jwtVerify, importJWK } from 'jose';
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

/** Misses: every call a token this verifier has not seen (a fresh verifier per pass over the set). */
async function missRate(concurrency) {
  let verifier = createBearerAuth({ ...issuer.options, logger: pino({ level: 'silent' }), tokenCache: { max: 10_001 } });
  await verifier.verify(distinct[0]);
  const t0 = performance.now();
  for (let i = 0; i < distinct.length; i += concurrency) {
    await Promise.all(distinct.slice(i, i + concurrency).map((t) => verifier.verify(t)));
  }
  return distinct.length / ((performance.now() - t0) / 1000);
}

const rows = [];
rows.push({ label: 'cyberark-bearer verify(), cache hit (awaited one by one)', perSecond: await rate(() => auth.verify(token)) });
rows.push({ label: 'cyberark-bearer verify(), cache miss (one by one)', perSecond: await missRate(1) });
rows.push({ label: 'cyberark-bearer verify(), cache miss (16 in flight)', perSecond: await missRate(16) });
rows.push({ label: 'jose jwtVerify() with an imported CryptoKey (one by one)', perSecond: await rate(() => jwtVerify(token, cryptoKey, { algorithms: ['RS256'] }), 1000) });
const opts = { algorithms: ['RS256'], issuer: issuer.issuer, audience: 'micro' };
const t0 = performance.now();
for (let i = 0; i < distinct.length; i += 16) await Promise.all(distinct.slice(i, i + 16).map((t) => jwtVerify(t, cryptoKey, opts)));
rows.push({ label: 'jose jwtVerify() with an imported CryptoKey (16 in flight)', perSecond: distinct.length / ((performance.now() - t0) / 1000) });
rows.push({ label: 'raw crypto.verify() of the same RS256 signature (the floor)', perSecond: await rate(() => rawVerify('sha256', signingInput, keyObject, signature), 1000) });
await issuer.close();
process.stdout.write(JSON.stringify(rows));
