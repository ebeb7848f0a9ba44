/**
 * Token extraction (RFC 6750 §2) over real HTTP: header forms, duplicate headers, and the
 * query-string and form-body methods, refused unless opted in.
 */
import express from 'express';
import request from 'supertest';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { listen, rawHead, rawRequest } from './support/http.js';
import { silent } from './support/logger.js';

let issuer: TestIssuer;
let token: string;
beforeAll(async () => {
  issuer = await createTestIssuer();
  token = issuer.mint({ scope: 'a' });
});
afterAll(() => issuer.close());

function appWith(options: { allowQueryToken?: boolean; allowBodyToken?: boolean } = {}) {
  const auth = createBearerAuth({ ...issuer.options, logger: silent, ...options });
  const app = express();
  app.use(express.urlencoded({ extended: false }), express.json());
  app.all('/x', auth.requireToken('a'), (req, res) => {
    res.json({ sub: req.auth.subject });
  });
  return app;
}

/** Sends raw header lines (supertest cannot repeat a header). */
async function rawGet(app: express.Express, headers: Array<[string, string]>): Promise<{ status: number; body: unknown }> {
  const server = await listen(app);
  try {
    const { status, body } = await rawRequest(server.url, rawHead('/x', headers));
    return { status, body };
  } finally {
    await server.close();
  }
}

describe('the Authorization header', () => {
  const app = () => appWith();

  it.each([
    ['several spaces after the scheme', (t: string) => `Bearer   ${t}`, 200],
    ['a tab after the scheme', (t: string) => `Bearer\t${t}`, 400],
    ['base64 padding at the end (never valid in a JWS)', (t: string) => `Bearer ${t}==`, 401],
    ['a + or / from base64 (not base64url)', (t: string) => `Bearer ${t.slice(0, -2)}+/`, 401],
    ['a comma-separated second credential', (t: string) => `Bearer ${t}, Basic abc`, 400],
    ['the scheme glued to the token', (t: string) => `Bearer${t}`, 401],
    ['a quoted token', (t: string) => `Bearer "${t}"`, 400],
  ])('%s', async (_case, header, status) => {
    await request(app()).get('/x').set('Authorization', header(token)).expect(status);
  });

  it('refuses two Authorization headers with 400, even if both are valid', async () => {
    const res = await rawGet(app(), [
      ['Authorization', `Bearer ${token}`],
      ['Authorization', `Bearer ${token}`],
    ]);
    expect(res).toEqual({
      status: 400,
      body: { error: 'invalid_request', error_description: 'more than one bearer token in the request' },
    });
  });

  it('refuses a bearer header next to a Basic one', async () => {
    const res = await rawGet(app(), [
      ['Authorization', 'Basic dTpw'],
      ['Authorization', `Bearer ${token}`],
    ]);
    expect(res.status).toBe(400);
  });

  it('accepts one header sent raw', async () => {
    const res = await rawGet(app(), [['Authorization', `Bearer ${token}`]]);
    expect(res.status).toBe(200);
  });
});

describe('query string and form body', () => {
  it('refuses the form-body method by default', async () => {
    const res = await request(appWith()).post('/x').type('form').send({ access_token: token }).expect(400);
    expect(res.body.error_description).toBe('tokens in the request body are not accepted, use the Authorization header');
  });

  it('accepts the query-string method when opted in', async () => {
    await request(appWith({ allowQueryToken: true }))
      .get(`/x?access_token=${token}`)
      .expect(200);
  });

  it('accepts the form-body method when opted in, but not with GET or JSON', async () => {
    const app = appWith({ allowBodyToken: true });
    await request(app).post('/x').type('form').send({ access_token: token }).expect(200);
    await request(app).post('/x').type('json').send({ access_token: token }).expect(400);
  });

  it('refuses a token sent by two methods', async () => {
    const app = appWith({ allowQueryToken: true });
    await request(app).get(`/x?access_token=${token}`).set('Authorization', `Bearer ${token}`).expect(400);
    await request(app).get(`/x?access_token=${token}&access_token=${token}`).expect(400);
  });

  it('does not mistake other query parameters for a token', async () => {
    await request(appWith()).get('/x?token_type=access_token').set('Authorization', `Bearer ${token}`).expect(200);
  });
});

describe('authenticate() on a bare Node request', () => {
  it('verifies and checks scopes without Express', async () => {
    const auth = createBearerAuth({ ...issuer.options, logger: silent });
    const ok = await auth.authenticate({ headers: { authorization: `Bearer ${token}` } }, 'a');
    expect(ok.scopes).toEqual(['a']);
    await expect(auth.authenticate({ headers: { authorization: `Bearer ${token}` } }, 'b')).rejects.toMatchObject({
      status: 403,
      body: { error: 'insufficient_scope', error_description: 'insufficient scope', scope: 'b' },
    });
    await expect(auth.authenticate({ headers: {} })).rejects.toMatchObject({ status: 401, error: 'unauthorized' });
  });

  it("gives its errors the instance's realm, for handlers that read err.headers", async () => {
    const auth = createBearerAuth({ ...issuer.options, logger: silent, realm: 'orders' });
    await expect(auth.authenticate({ headers: {} })).rejects.toMatchObject({
      headers: { 'WWW-Authenticate': 'Bearer realm="orders"' },
    });
    await expect(auth.authenticate({ headers: { authorization: `Bearer ${token}` } }, 'b')).rejects.toMatchObject({
      headers: {
        'WWW-Authenticate':
          'Bearer realm="orders", error="insufficient_scope", error_description="insufficient scope", scope="b"',
      },
    });
  });
});
