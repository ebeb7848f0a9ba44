/**
 * A token cached in the same moment as a key-set refresh that withdraws its key: the cache must
 * file it under the key that verified it, so it is refused once that key is gone. The refresh
 * lands while the signature check waits in libuv's thread pool (what load does), both under the
 * test's control: the pool is held by FIFO opens, the clock is fake Date, the JWKS is scripted.
 */
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { constants, openSync, closeSync } from 'node:fs';
import { mkdtemp, open, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import request from 'supertest';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { guardedApp } from './support/apps.js';
import { json, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { silent } from './support/logger.js';

/**
 * Occupies every thread of libuv's pool with an open() of a FIFO that nobody writes to, so that
 * jobs queued after them (WebCrypto's signature checks) wait until `release()`.
 */
async function holdThreadPool(): Promise<{ release(): Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'pool-gate-'));
  const fifo = join(dir, 'gate');
  execFileSync('mkfifo', [fifo]);
  const threads = Math.max(4, Number(process.env.UV_THREADPOOL_SIZE) || 0);
  const readers = Array.from({ length: threads }, () => open(fifo, 'r'));
  return {
    async release() {
      // Opening both ends never blocks, and lets every waiting reader through.
      const both = openSync(fifo, constants.O_RDWR);
      try {
        await Promise.all((await Promise.all(readers)).map((handle) => handle.close()));
      } finally {
        closeSync(both);
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

function rsaKey(kid: string | undefined): { privateKey: KeyObject; jwk: Record<string, unknown> } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk: Record<string, unknown> = { ...publicKey.export({ format: 'jwk' }), use: 'sig', alg: 'RS256' };
  if (kid !== undefined) jwk.kid = kid;
  return { privateKey, jwk };
}

let issuer: TestIssuer | undefined;
let keys: ScriptedServer | undefined;
afterEach(async () => {
  vi.useRealTimers();
  await Promise.all([issuer?.close(), keys?.close()]);
  issuer = keys = undefined;
});

describe.skipIf(process.platform === 'win32')('a token cached while a refresh withdraws its key', () => {
  it.each([
    ['the same kid now names another key', 'k1'],
    ['no kid, the single published key replaced', undefined],
  ])('%s: refused once the key is gone (401)', async (_case, kid) => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const a = rsaKey(kid);
    const b = rsaKey(kid);
    // The first fetch publishes A; every later one publishes B in its place.
    keys = await scriptedServer([json(200, { keys: [a.jwk] }), json(200, { keys: [b.jwk] })]);
    issuer = await createTestIssuer({ appId: 'race-app', audience: 'race-api' });
    const auth = createBearerAuth({
      ...issuer.options,
      jwksUri: `${keys.url}/keys`,
      keyCache: { maxAge: 600 },
      logger: silent,
      env: {},
    });
    const app = guardedApp(auth.requireToken());
    const token = issuer.mint({}, { kid }, { key: a.privateKey });

    // Another token of A fetches the keys; `token` itself is first checked in the race below.
    await auth.verify(issuer.mint({ jti: 'another' }, { kid }, { key: a.privateKey }));
    expect(keys.received).toHaveLength(1);

    // Into the refresh-ahead window: the next check starts a refresh and goes on with A.
    vi.setSystemTime(Date.now() + 540_000);
    const pool = await holdThreadPool();
    let settled = false;
    let second: Promise<unknown>;
    try {
      second = auth.verify(token).finally(() => (settled = true));
      // The clock stands still, so the key set's age drops to 0 when the refresh lands.
      while (!settled && Object.values(auth.status())[0]?.age !== 0) await new Promise((resolve) => setTimeout(resolve, 1));
      expect(keys.received).toHaveLength(2);
      expect(settled).toBe(false); // the signature check is still waiting: the refresh landed first
    } finally {
      await pool.release();
    }
    await expect(second).resolves.toBeDefined(); // checked while A was published

    for (let i = 0; i < 3; i++) {
      const res = await request(app).get('/x').set('Authorization', `Bearer ${token}`);
      expect({ status: res.status, error: res.body.error }).toEqual({ status: 401, error: 'invalid_token' });
    }
    await expect(auth.verify(token)).rejects.toMatchObject({ reason: 'bad_signature' });
  });
});
