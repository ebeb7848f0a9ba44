/**
 * Attacks on extraction (RFC 6750 §2): missing and foreign schemes, spacing tricks, empty and
 * doubled tokens, two Authorization headers, and tokens in the query or body (refused unless the
 * app opted in). Header bytes are sent raw where an HTTP client would tidy them.
 */
import { describe, expect, it } from 'vitest';
import request from 'supertest';
import {
  expectRefusal,
  invalidRequest,
  MALFORMED_HEADER,
  NO_CREDENTIALS,
  SEVERAL_TOKENS,
  useTarget,
  withToken,
} from './harness.js';

describe('extraction attacks', () => {
  const t = useTarget();

  it('no Authorization header → 401 with a bare challenge', async () => {
    expectRefusal(await t.get('/orders'), NO_CREDENTIALS, t);
  });

  it.each([
    ['Basic', () => 'Basic dXNlcjpwYXNz'],
    ['Digest', () => 'Digest username="u", realm="api"'],
    ['DPoP (a valid token, but not the Bearer scheme)', () => `DPoP ${t.token}`],
    ['Token', () => `Token ${t.token}`],
    ['Bearer glued to the token', () => `Bearer${t.token}`],
    ['a bare token with no scheme', () => t.token],
  ])('another scheme, %s → 401 no bearer credentials', async (_case, header) => {
    expectRefusal(await t.get('/orders', header()), NO_CREDENTIALS, t);
  });

  it.each(['bearer', 'BEARER', 'bEaReR'])('the scheme spelt "%s" (case-insensitive, RFC 9110 §11.1) → 200', async (scheme) => {
    await t.get('/orders', `${scheme} ${t.token}`).expect(200);
  });

  it('several spaces after the scheme (1*SP, RFC 6750 §2.1) → 200', async () => {
    await t.get('/orders', `Bearer     ${t.token}`).expect(200);
  });

  it('spaces around the header value (trimmed by Node as OWS) → 200', async () => {
    const res = await t.raw([['Authorization', `   Bearer ${t.token}   `]]);
    expect(res.status).toBe(200);
  });

  it('a tab instead of the space → 400 malformed_request', async () => {
    expectRefusal(await t.raw([['Authorization', `Bearer\t${t.token}`]]), MALFORMED_HEADER, t);
  });

  it('a space then a tab → 400 malformed_request', async () => {
    expectRefusal(await t.raw([['Authorization', `Bearer \t${t.token}`]]), MALFORMED_HEADER, t);
  });

  it('a tab inside the token → 400 malformed_request', async () => {
    expectRefusal(await t.raw([['Authorization', `Bearer ${t.token.slice(0, 20)}\t${t.token.slice(20)}`]]), MALFORMED_HEADER, t);
  });

  it('"Bearer " with an empty token (Node trims it to "Bearer") → 400 malformed_request', async () => {
    expectRefusal(await t.raw([['Authorization', 'Bearer ']]), MALFORMED_HEADER, t);
  });

  it('"Bearer" alone → 400 malformed_request', async () => {
    expectRefusal(await t.get('/orders', 'Bearer'), MALFORMED_HEADER, t);
  });

  it('an empty Authorization header → 401 no bearer credentials', async () => {
    expectRefusal(await t.raw([['Authorization', '']]), NO_CREDENTIALS, t);
  });

  it('two tokens in one header → 400 several_tokens', async () => {
    expectRefusal(await t.get('/orders', `Bearer ${t.token} ${t.token}`), SEVERAL_TOKENS, t);
  });

  it('a second credential after a comma → 400 several_tokens', async () => {
    expectRefusal(await t.get('/orders', `Bearer ${t.token}, Bearer ${t.token}`), SEVERAL_TOKENS, t);
  });

  it('a quoted token → 400 malformed_request', async () => {
    expectRefusal(await t.get('/orders', `Bearer "${t.token}"`), MALFORMED_HEADER, t);
  });

  it.each<[string, [string, string], [string, string]]>([
    ['two Authorization headers, both valid', ['Authorization', 'Bearer {token}'], ['authorization', 'Bearer {token}']],
    ['two Authorization headers, a garbage one first', ['Authorization', 'Bearer x'], ['Authorization', 'Bearer {token}']],
    ['a Basic header and a Bearer header', ['Authorization', 'Basic dTpw'], ['Authorization', 'Bearer {token}']],
  ])('%s → 400 several_tokens', async (_case, first, second) => {
    expectRefusal(await t.raw(withToken([first, second], t.token)), SEVERAL_TOKENS, t);
  });

  it('the token in the query string → 400 token_in_query', async () => {
    expectRefusal(
      await t.get(`/orders?access_token=${t.token}`),
      invalidRequest('tokens in the query string are not accepted, use the Authorization header', 'token_in_query'),
      t,
    );
  });

  it('the token in the query string next to a valid header → 400 token_in_query', async () => {
    expectRefusal(
      await t.get(`/orders?access_token=${t.token}`, `Bearer ${t.token}`),
      invalidRequest('tokens in the query string are not accepted, use the Authorization header', 'token_in_query'),
      t,
    );
  });

  it('an empty access_token query parameter → 400 token_in_query', async () => {
    expectRefusal(
      await t.get('/orders?access_token='),
      invalidRequest('tokens in the query string are not accepted, use the Authorization header', 'token_in_query'),
      t,
    );
  });

  it('the token in a form body → 400 token_in_body', async () => {
    t.log.lines.length = 0;
    const res = await request(t.url).post('/orders').type('form').send({ access_token: t.token });
    expectRefusal(
      res,
      invalidRequest('tokens in the request body are not accepted, use the Authorization header', 'token_in_body'),
      t,
    );
  });

  it.each([
    ['access%5Ftoken', 'an encoded underscore'],
    ['%61ccess_token', 'an encoded letter'],
    ['access_token%5B%5D', 'an encoded [] (an array in Express 4)'],
    ['access_token[0]', 'an index (an array in Express 4)'],
  ])('the token in the query string as %s, %s → 400 token_in_query', async (name) => {
    expectRefusal(
      await t.get(`/orders?${name}=${t.token}`, `Bearer ${t.token}`),
      invalidRequest('tokens in the query string are not accepted, use the Authorization header', 'token_in_query'),
      t,
    );
  });

  it('the log of a refused query token has the path without the query (no token logged)', async () => {
    await t.get(`/orders?access_token=${t.token}`).expect(400);
    expect(t.log.lines.find((l) => l.msg === 'bearer token refused')).toMatchObject({ path: '/orders' });
    expect(t.log.text()).not.toContain(t.token.split('.')[2]);
  });
});

describe('extraction with query and body tokens opted in', () => {
  const t = useTarget({ bearer: { allowQueryToken: true, allowBodyToken: true } });

  it('the control: a token in the query string → 200', async () => {
    await t.get(`/orders?access_token=${t.token}`).expect(200);
  });

  it('the control: a token in a form body → 200', async () => {
    await request(t.url).post('/orders').type('form').send({ access_token: t.token }).expect(200);
  });

  it('query and header both → 400 several_tokens', async () => {
    expectRefusal(await t.get(`/orders?access_token=${t.token}`, `Bearer ${t.token}`), SEVERAL_TOKENS, t);
  });

  it('the parameter twice in the query → 400 several_tokens', async () => {
    expectRefusal(await t.get(`/orders?access_token=${t.token}&access_token=${t.token}`), SEVERAL_TOKENS, t);
  });

  it('the parameter twice in the query, once percent-encoded → 400 several_tokens', async () => {
    expectRefusal(await t.get(`/orders?access_token=${t.token}&access%5Ftoken=${t.token}`), SEVERAL_TOKENS, t);
  });

  it('a header token and another in the query under an encoded name → 400 several_tokens', async () => {
    const another = t.mint({ sub: 'someone-else' });
    expectRefusal(await t.get(`/orders?access%5Ftoken=${another}`, `Bearer ${t.token}`), SEVERAL_TOKENS, t);
  });

  it('the parameter as an Express 4 array (access_token[]) → 400 malformed_request', async () => {
    expectRefusal(await t.get(`/orders?access_token[]=${t.token}`), MALFORMED_HEADER, t);
  });

  it('the parameter twice in a form body → 400 several_tokens', async () => {
    t.log.lines.length = 0;
    const res = await request(t.url).post('/orders').type('form').send(`access_token=${t.token}&access_token=${t.token}`);
    expectRefusal(res, SEVERAL_TOKENS, t);
  });

  it('an empty query token → 400 malformed_request', async () => {
    expectRefusal(await t.get('/orders?access_token='), MALFORMED_HEADER, t);
  });

  it('a body token on a GET request (RFC 6750 §2.2 forbids it) → 400 malformed_request', async () => {
    t.log.lines.length = 0;
    const res = await request(t.url).get('/orders').type('form').send(`access_token=${t.token}`);
    expectRefusal(res, MALFORMED_HEADER, t);
  });
});
