/**
 * Near misses of extraction: a valid token under a scheme that is not quite `Bearer`, header
 * names as long as `Authorization`, and a form-body token next to a header token.
 */
import request from 'supertest';
import { describe, expect, it } from 'vitest';
import { expectRefusal, NO_CREDENTIALS, SEVERAL_TOKENS, useTarget, withToken } from './harness.js';

/** `Bearer` with the letter at each position replaced: by the next letter, and by `x`. */
const NEAR_MISSES = [...'Bearer'].flatMap((letter, i) =>
  [String.fromCharCode(letter.charCodeAt(0) + 1), 'x'].map((other) => 'Bearer'.slice(0, i) + other + 'Bearer'.slice(i + 1)),
);

describe('scheme names', () => {
  const t = useTarget();

  it('the control: Bearer with the same token → 200', async () => {
    await t.bearer(t.token).expect(200);
  });

  it('a valid token under Digest → 401 with a bare challenge', async () => {
    expectRefusal(await t.get('/orders', `Digest ${t.token}`), NO_CREDENTIALS, t);
  });

  it.each(NEAR_MISSES)('a valid token under "%s" → 401 with a bare challenge', async (scheme) => {
    expectRefusal(await t.get('/orders', `${scheme} ${t.token}`), NO_CREDENTIALS, t);
  });

  it.each(NEAR_MISSES)('"%s" alone → 401 with a bare challenge (not a malformed Bearer)', async (scheme) => {
    expectRefusal(await t.get('/orders', scheme), NO_CREDENTIALS, t);
  });
});

describe('headers as long as Authorization', () => {
  const t = useTarget();

  it.each([
    [
      'Cache-Control after it',
      [
        ['Authorization', 'Bearer {token}'],
        ['Cache-Control', 'no-cache'],
      ],
    ],
    [
      'Cache-Control before it',
      [
        ['Cache-Control', 'no-cache'],
        ['Authorization', 'Bearer {token}'],
      ],
    ],
    [
      'If-None-Match and Last-Modified around it',
      [
        ['If-None-Match', '"x"'],
        ['Authorization', 'Bearer {token}'],
        ['Last-Modified', 'x'],
      ],
    ],
  ] as const)('%s: not a second Authorization → 200', async (_case, headers) => {
    const res = await t.raw(withToken(headers, t.token));
    expect(res.status).toBe(200);
  });

  it('authorization and AUTHORIZATION (one name in two cases) → 400 several_tokens', async () => {
    expectRefusal(
      await t.raw([
        ['authorization', `Bearer ${t.token}`],
        ['AUTHORIZATION', `Bearer ${t.token}`],
      ]),
      SEVERAL_TOKENS,
      t,
    );
  });
});

describe('a form-body token with allowBodyToken', () => {
  const t = useTarget({ bearer: { allowBodyToken: true } });

  const post = (contentType: string, body: string) => {
    t.log.lines.length = 0;
    return request(t.url).post('/orders').set('Content-Type', contentType).send(body);
  };

  it('a header token and a form-body token → 400 several_tokens', async () => {
    const res = await post('application/x-www-form-urlencoded', `access_token=${t.token}`).set(
      'Authorization',
      `Bearer ${t.token}`,
    );
    expectRefusal(res, SEVERAL_TOKENS, t);
  });

  it('a header token and a malformed form-body token → 400 several_tokens', async () => {
    const res = await post('application/x-www-form-urlencoded', 'access_token=x').set('Authorization', `Bearer ${t.token}`);
    expectRefusal(res, SEVERAL_TOKENS, t);
  });

  it.each([
    'application/x-www-form-urlencoded',
    'application/x-www-form-urlencoded; charset=UTF-8',
    'Application/X-WWW-Form-URLEncoded',
  ])('Content-Type %s → 200', async (contentType) => {
    await post(contentType, `access_token=${t.token}`).expect(200, { ok: true });
  });
});
