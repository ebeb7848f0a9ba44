/**
 * Attacks on the token's structure: the wrong number of segments, JWE, the JSON serialization,
 * bad base64url, headers and claims that are not JSON objects, duplicate member names, huge
 * tokens and bytes outside ASCII. Where Node's HTTP parser answers before our code runs, the
 * test asserts what really happens and also drives our own layer directly.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { useForge } from './forge.js';
import { b64url, expectRefusal, invalidToken, MALFORMED_HEADER, startTarget, useTarget, useWarmTarget } from './harness.js';

const MALFORMED = invalidToken('malformed token', 'malformed_token');

describe('structure attacks', () => {
  const t = useWarmTarget();
  let h: string, p: string, s: string;
  beforeAll(() => {
    [h, p, s] = t.parts;
  });

  const send = (value: string) => t.bearer(value);

  it('one segment (an opaque token) → 401 not_a_jwt', async () => {
    expectRefusal(
      await send('3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c'),
      invalidToken('token is not a JWT (opaque tokens are not accepted)', 'not_a_jwt'),
      t,
    );
  });

  it('two segments (the signature dropped with its dot) → 401 malformed_token', async () => {
    expectRefusal(await send(`${h}.${p}`), MALFORMED, t);
  });

  it('four segments (an extra one appended) → 401 malformed_token', async () => {
    expectRefusal(await send(`${t.token}.${s}`), MALFORMED, t);
  });

  it('five segments (a JWE) → 401 encrypted_token', async () => {
    const jwe = [
      b64url('{"alg":"RSA-OAEP-256","enc":"A256GCM"}'),
      b64url('k'.repeat(256)),
      b64url('iv-iv-iv-iv-'),
      b64url('ciphertext'),
      b64url('tag-tag-tag-tag-'),
    ].join('.');
    expectRefusal(await send(jwe), invalidToken('encrypted tokens (JWE) are not accepted', 'encrypted_token'), t);
  });

  it('six segments → 401 malformed_token', async () => {
    expectRefusal(await send(`${t.token}.${h}.${p}.${s}`), MALFORMED, t);
  });

  it('empty segments (".." and "...") → 401 malformed_token', async () => {
    expectRefusal(await send(`${h}..${s}`), MALFORMED, t);
    expectRefusal(await send('..'), MALFORMED, t);
  });

  it('the JWS JSON serialization as the token → 400 (not a b64token); verify() alone says not_a_jwt', async () => {
    const json = JSON.stringify({ payload: p, protected: h, signature: s });
    expectRefusal(await send(json), MALFORMED_HEADER, t);
    await expect(t.auth.verify(json)).rejects.toMatchObject({ status: 401, reason: 'not_a_jwt' });
  });

  it('the JWS JSON serialization base64url-encoded → 401 not_a_jwt', async () => {
    expectRefusal(
      await send(b64url(JSON.stringify({ payload: p, protected: h, signature: s }))),
      invalidToken('token is not a JWT (opaque tokens are not accepted)', 'not_a_jwt'),
      t,
    );
  });

  it('base64 padding on the signature → 401 malformed_token', async () => {
    expectRefusal(await send(`${t.token}==`), MALFORMED, t);
  });

  it('standard base64 characters (+ and /) instead of - and _ → 401 malformed_token', async () => {
    const standard = Buffer.from(s, 'base64url').toString('base64').replace(/=+$/, '');
    expect(standard).toMatch(/[+/]/);
    expectRefusal(await send(`${h}.${p}.${standard}`), MALFORMED, t);
  });

  it('the signature respelt with non-zero pad bits (same bytes) → 401 malformed_token', async () => {
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const respelt = s.slice(0, -1) + alphabet[alphabet.indexOf(s.at(-1)!) ^ 1];
    expect(Buffer.from(respelt, 'base64url')).toEqual(Buffer.from(s, 'base64url'));
    expectRefusal(await send(`${h}.${p}.${respelt}`), MALFORMED, t);
  });

  it('a segment whose length is 1 mod 4 (no bytes can encode to it) → 401 malformed_token', async () => {
    expectRefusal(await send(`${h}.${p}.${s}AAA`), MALFORMED, t);
    expectRefusal(await send(`${h}A.${p}.${s}`), MALFORMED, t);
  });

  it.each([
    ['not JSON', 'alg=RS256'],
    ['a JSON array', '["RS256"]'],
    ['a JSON string', '"RS256"'],
    ['JSON null', 'null'],
    ['truncated JSON', '{"alg":"RS256"'],
  ])('a header that is %s → 401 malformed_token', async (_case, header) => {
    expectRefusal(await send(`${b64url(header)}.${p}.${s}`), MALFORMED, t);
  });

  it('a header that is not UTF-8 → 401 malformed_token', async () => {
    expectRefusal(await send(`${b64url(Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]))}.${p}.${s}`), MALFORMED, t);
  });

  it('a 100 KB token: Node answers 431 before any middleware runs', async () => {
    const huge = `${h}.${b64url('x'.repeat(75_000))}.${s}`;
    expect(huge.length).toBeGreaterThan(100_000);
    const res = await t.raw([['Authorization', `Bearer ${huge}`]]);
    expect(res.status).toBe(431);
    expect(t.log.lines).toEqual([]);
  });

  it('a 100 KB token through our own layer (server with a 256 KiB header limit, and verify()) → 401 token_too_large', async () => {
    const big = await startTarget({ server: { maxHeaderSize: 256 * 1024 } });
    try {
      const huge = `${h}.${b64url('x'.repeat(75_000))}.${s}`;
      expectRefusal(await big.get('/orders', `Bearer ${huge}`), invalidToken('token too large', 'token_too_large'), big);
      await expect(big.auth.verify(huge)).rejects.toMatchObject({ status: 401, reason: 'token_too_large' });
      expect(big.issuer.jwksFetches).toBe(0); // refused before any key was needed
    } finally {
      await big.close();
    }
  });

  it('UTF-8 bytes (non-ASCII) in the Authorization header → 400 malformed_request', async () => {
    const res = await t.raw([
      ['Authorization', Buffer.concat([Buffer.from(`Bearer ${h}.`), Buffer.from('пейлоуд', 'utf8'), Buffer.from(`.${s}`)])],
    ]);
    expectRefusal(res, MALFORMED_HEADER, t);
  });

  it('Latin-1 bytes in the Authorization header → 400 malformed_request', async () => {
    const res = await t.raw([['Authorization', Buffer.concat([Buffer.from(`Bearer ${t.token}`), Buffer.from([0xe9])])]]);
    expectRefusal(res, MALFORMED_HEADER, t);
  });

  it('a NUL byte in the Authorization header: Node answers 400 itself; authenticate() refuses it as malformed', async () => {
    const res = await t.raw([['Authorization', `Bearer ${h}\u0000.${p}.${s}`]]);
    expect(res.status).toBe(400);
    expect(t.log.lines).toEqual([]);
    await expect(t.auth.authenticate({ headers: { authorization: `Bearer ${h}\u0000.${p}.${s}` } })).rejects.toMatchObject({
      status: 400,
      error: 'invalid_request',
      reason: 'malformed_request',
    });
  });

  it('non-ASCII characters in the JOSE header (the kid) → 401 unknown_key', async () => {
    expectRefusal(
      await send(t.mint({}, { kid: 'clé-ключ-鍵' })),
      invalidToken('token signed by an unknown key', 'unknown_key'),
      t,
    );
  });
});

describe('structure attacks on validly signed content (a forge that signs any bytes)', () => {
  const forge = useForge();
  const t = useTarget(() => ({ bearer: forge.options }));

  const scope = ',"scope":"orders.read"';
  const send = (header: string | Buffer, payload: string | Buffer) => t.bearer(forge.sign(header, payload));

  it("the control: the forge's well-formed token passes", async () => {
    await send(forge.header(), forge.claims(scope)).expect(200);
  });

  it.each([
    ['not JSON', 'iss=me&exp=9999999999'],
    ['a JSON array', '[{"iss":"https://forge.example/app/"}]'],
    ['a JSON string', '"admin"'],
    ['JSON null', 'null'],
    ['a JSON number', '4102444800'],
    ['empty', ''],
  ])('claims that are %s → 401 malformed_token', async (_case, payload) => {
    expectRefusal(await send(forge.header(), payload), MALFORMED, t);
  });

  it('claims that are not UTF-8 → 401 malformed_token', async () => {
    const bytes = Buffer.concat([
      Buffer.from(forge.claims(scope).slice(0, -1)),
      Buffer.from(',"x":"'),
      Buffer.from([0xc3, 0x28]),
      Buffer.from('"}'),
    ]);
    expectRefusal(await send(forge.header(), bytes), MALFORMED, t);
  });

  it('duplicate claim names (a second aud, the last one right) → 401 malformed_token', async () => {
    const claims = forge.claims(scope).replace('"aud":', '"aud":"https://api.example.com/billing","aud":');
    expect(JSON.parse(claims).aud).toBe(forge.audience); // JSON.parse alone would read the right one
    expectRefusal(await send(forge.header(), claims), MALFORMED, t);
  });

  it('duplicate claim names (scope granted twice, differently) → 401 malformed_token', async () => {
    expectRefusal(await send(forge.header(), forge.claims(',"scope":"nothing","scope":"orders.read"')), MALFORMED, t);
  });

  it('duplicate header parameter names (alg none, then RS256) → 401 malformed_token', async () => {
    expectRefusal(await send(`{"alg":"none","alg":"RS256","kid":"${forge.kid}"}`, forge.claims(scope)), MALFORMED, t);
  });
});
