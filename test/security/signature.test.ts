/**
 * Attacks on the signature: tampering, stripping, another key under our `kid`, and genuine
 * tokens of the same tenant minted for another app (same key, other `iss` or `aud`).
 */
import { generateKeyPairSync } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE, b64url, expectRefusal, flipChar, invalidToken, useWarmTarget } from './harness.js';

const BAD_SIGNATURE = invalidToken('invalid signature', 'bad_signature');

describe('signature attacks', () => {
  const t = useWarmTarget();
  let h: string, p: string, s: string;
  beforeAll(() => {
    [h, p, s] = t.parts;
  });

  const send = (value: string) => t.bearer(value);

  it('one bit flipped in the first signature character → 401 bad_signature', async () => {
    expectRefusal(await send(`${h}.${p}.${flipChar(s, 0)}`), BAD_SIGNATURE, t);
  });

  it('one bit flipped in the last signature character → 401 bad_signature', async () => {
    expectRefusal(await send(`${h}.${p}.${flipChar(s, -1)}`), BAD_SIGNATURE, t);
  });

  it('one bit flipped in the claims → 401 bad_signature', async () => {
    expectRefusal(await send(`${h}.${flipChar(p, 40)}.${s}`), BAD_SIGNATURE, t);
  });

  it('claims re-encoded with more scopes, original signature kept → 401 bad_signature', async () => {
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const escalated = b64url(JSON.stringify({ ...claims, scope: 'orders.read orders.write admin' }));
    expectRefusal(await send(`${h}.${escalated}.${s}`), BAD_SIGNATURE, t);
  });

  it('the same claims re-serialized with other whitespace, original signature kept → 401 bad_signature', async () => {
    const claims = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    expectRefusal(await send(`${h}.${b64url(JSON.stringify(claims, null, 1))}.${s}`), BAD_SIGNATURE, t);
  });

  it('the signature stripped, its dot kept → 401 bad_signature', async () => {
    expectRefusal(await send(`${h}.${p}.`), BAD_SIGNATURE, t);
  });

  it('the signature truncated by one byte → 401 bad_signature', async () => {
    const short = b64url(Buffer.from(s, 'base64url').subarray(0, -1));
    expectRefusal(await send(`${h}.${p}.${short}`), BAD_SIGNATURE, t);
  });

  it('a signature of zeros of the right length → 401 bad_signature', async () => {
    expectRefusal(await send(`${h}.${p}.${b64url(Buffer.alloc(256))}`), BAD_SIGNATURE, t);
  });

  it('the signature of another genuine token → 401 bad_signature', async () => {
    const other = t.mint({ sub: 'someone-else' }).split('.')[2];
    expectRefusal(await send(`${h}.${p}.${other}`), BAD_SIGNATURE, t);
  });

  it('segments swapped (claims first) → 401 malformed_token', async () => {
    expectRefusal(await send(`${p}.${h}.${s}`), invalidToken('malformed token', 'malformed_token'), t);
  });

  it('a valid signature from another RSA key under the tenant kid → 401 bad_signature', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expectRefusal(await send(t.mint({}, {}, { key: privateKey })), BAD_SIGNATURE, t);
  });

  it('a valid signature from a 1024-bit RSA key under the tenant kid → 401 bad_signature', async () => {
    const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    expectRefusal(await send(t.mint({}, {}, { key: privateKey })), BAD_SIGNATURE, t);
  });

  describe('genuine tokens of another app of the same tenant (same key)', () => {
    const tenant = () => t.issuer.url;

    it("another app's issuer, our audience → 401 unexpected_issuer", async () => {
      expectRefusal(
        await send(t.mint({ iss: `${tenant()}/billing-api/` })),
        invalidToken('unexpected issuer', 'unexpected_issuer'),
        t,
      );
    });

    it("our issuer, another app's audience → 401 unexpected_audience", async () => {
      expectRefusal(
        await send(t.mint({ aud: 'https://api.example.com/billing' })),
        invalidToken('unexpected audience', 'unexpected_audience'),
        t,
      );
    });

    it("another app's issuer and audience (a whole other app's token) → 401 unexpected_issuer", async () => {
      const res = await send(
        t.mint({ iss: `${tenant()}/billing-api/`, aud: 'https://api.example.com/billing', app_id: 'billing-api' }),
      );
      expectRefusal(res, invalidToken('unexpected issuer', 'unexpected_issuer'), t);
    });

    it("a token of CyberArk's own platform app (__idaptive_cybr_user_oidc) → 401 unexpected_issuer", async () => {
      const res = await send(
        t.mint({ iss: `${tenant()}/__idaptive_cybr_user_oidc/`, aud: '5a2a6b2e-1111-2222-3333-444455556666' }),
      );
      expectRefusal(res, invalidToken('unexpected issuer', 'unexpected_issuer'), t);
    });

    it('the tenant-level issuer (no app id) → 401 unexpected_issuer', async () => {
      expectRefusal(await send(t.mint({ iss: `${tenant()}/` })), invalidToken('unexpected issuer', 'unexpected_issuer'), t);
    });

    it("the control: our own app's token from the same key passes", async () => {
      const res = await send(t.mint({ aud: AUDIENCE }));
      expect(res.status).toBe(200);
    });
  });
});
