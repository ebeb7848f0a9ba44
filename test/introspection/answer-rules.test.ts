/**
 * What an active introspection answer is held to beyond `active`, as a JWT's claims are: the
 * `claims` rules (functions on every request, cache hits included), `maxTokenAge`, whose issuer
 * and audience it names, what kind of token it is; how the endpoint's refusal of one token
 * differs from an outage; which tokens go to it at all; and what explain() shows of its answer.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createBearerAuth, InvalidTokenError, type BearerAuthOptions } from 'cyberark-bearer';
import { captureLogger } from '../support/logger.js';
import { listen } from '../support/http.js';
import { AUDIENCE, ORDERS_API, perTest, randomOpaque } from './harness.js';

const { start } = perTest();
const OPAQUE = { tokens: 'opaque' as const };
const CLAIM_MISMATCH = { error: 'invalid_token', error_description: 'token claims not accepted' };

/** An API trusting `issuers` (instead of the single-issuer options), introspecting at `api`'s kit. */
function startWithIssuers(api: { issuer: { introspectionUrl: string } }, issuers: BearerAuthOptions['issuers']) {
  return start({
    bearer: {
      ...OPAQUE,
      tenantUrl: undefined,
      appId: undefined,
      issuer: undefined,
      jwksUri: undefined,
      audience: undefined,
      issuers,
      introspection: { ...ORDERS_API, url: api.issuer.introspectionUrl },
    },
  });
}

describe('claim rules on an introspected token', () => {
  it('object rules refuse an answer whose claims do not match (401 claim_mismatch), once per token', async () => {
    const api = await start({ bearer: { ...OPAQUE, claims: { team: ['finance', 'audit'] } } });
    const other = api.opaque({ team: 'marketing' });
    expect((await api.call('/orders', other)).body).toEqual(CLAIM_MISMATCH);
    expect((await api.call('/orders', api.opaque())).status).toBe(401);
    expect((await api.call('/orders', api.opaque({ team: 'audit' }))).status).toBe(200);
    // The refusal is remembered like an inactive answer: no second call.
    expect((await api.call('/orders', other)).status).toBe(401);
    expect(api.issuer.introspections).toBe(3);
    expect(api.logged('bearer token refused').at(-1)).toMatchObject({ reason: 'claim_mismatch' });
  });

  it("an issuer's own rules hold for the answers naming it", async () => {
    const api = await start({ bearer: { ...OPAQUE } });
    const { tenantUrl, appId, issuer } = api.issuer.options;
    const ruled = await startWithIssuers(api, [{ tenantUrl, appId, audience: AUDIENCE, claims: { team: 'finance' } }]);
    expect((await ruled.call('/orders', api.opaque({ iss: issuer, team: 'hr' }))).body).toEqual(CLAIM_MISMATCH);
    expect((await ruled.call('/orders', api.opaque({ iss: issuer, team: 'finance' }))).status).toBe(200);
  });

  it('function rules run on every request, cache hits and shared calls included', async () => {
    let open = true;
    const api = await start({ bearer: { ...OPAQUE, claims: (claims) => open || `closed for ${String(claims.team)}` } });
    const token = api.opaque({ team: 'finance' });
    expect((await api.call('/orders', token)).status).toBe(200);
    open = false;
    expect((await api.call('/orders', token)).body).toEqual(CLAIM_MISMATCH);
    expect(api.logged('bearer token refused').at(-1)).toMatchObject({ reason: 'claim_mismatch' });
    open = true;
    expect((await api.call('/orders', token)).status).toBe(200);
    // All from the one cached answer.
    expect(api.issuer.introspections).toBe(1);
    open = false;
    const fresh = api.opaque();
    const both = await Promise.all([api.call('/orders', fresh), api.call('/me', fresh)]);
    expect(both.map((res) => res.status)).toEqual([401, 401]);
  });

  it('instances with different function rules do not share answers accepted under the other', async () => {
    const api = await start({ bearer: OPAQUE });
    const options: BearerAuthOptions = {
      ...api.issuer.options,
      ...OPAQUE,
      introspection: { ...ORDERS_API },
      logger: captureLogger().logger,
      env: {},
    };
    const lenient = createBearerAuth({ ...options, claims: () => true });
    const strict = createBearerAuth({ ...options, claims: () => 'never' });
    const token = api.opaque();
    expect((await lenient.verify(token)).source).toBe('introspection');
    await expect(strict.verify(token)).rejects.toMatchObject({ reason: 'claim_mismatch' });
  });

  it('maxTokenAge refuses an answer whose iat is older (token_too_old), and bounds how long it is relied on', async () => {
    const api = await start({ bearer: { ...OPAQUE, maxTokenAge: 600, clockTolerance: 0 } });
    const now = Math.floor(Date.now() / 1000);
    const old = await api.call('/orders', api.opaque({ iat: now - 3600, exp: now + 600 }));
    expect(old.status).toBe(401);
    expect(old.body.error_description).toBe('token too old');
    expect((await api.call('/orders', api.opaque({ iat: now - 60, exp: now + 600 }))).status).toBe(200);
    expect((await api.call('/orders', api.opaque({ iat: 'yesterday', exp: now + 600 }))).body.error_description).toBe(
      'token claim has an invalid value',
    );
  });
});

describe('whose token an answer is', () => {
  it('with several issuers, an answer must name one of them as its iss', async () => {
    const api = await start({ bearer: OPAQUE });
    const { tenantUrl, appId, issuer } = api.issuer.options;
    const two = await startWithIssuers(api, [
      { tenantUrl, appId, audience: AUDIENCE },
      { issuer: 'https://other.example/billing/', jwksUri: 'https://other.example/keys', audience: AUDIENCE },
    ]);
    const unnamed = await two.call('/orders', api.opaque({ iss: undefined }));
    expect(unnamed.status).toBe(401);
    expect(unnamed.body.error_description).toBe('unexpected issuer');
    expect((await two.call('/orders', api.opaque({ iss: issuer }))).status).toBe(200);
  });

  it('with a resource as the audience, an answer must name it', async () => {
    const resource = 'https://api.example.com/orders';
    const api = await start({ bearer: { ...OPAQUE, audience: undefined, resource } });
    const none = await api.call('/orders', api.opaque({ aud: undefined }));
    expect(none.status).toBe(401);
    expect(none.body.error_description).toBe('token lacks a required claim');
    expect((await api.call('/orders', api.opaque({ aud: AUDIENCE }))).body.error_description).toBe('unexpected audience');
    expect((await api.call('/orders', api.opaque({ aud: resource }))).status).toBe(200);
  });

  it('with one issuer and an exact audience, an answer without iss and aud is still accepted', async () => {
    const api = await start({ bearer: OPAQUE });
    expect((await api.call('/orders', api.opaque({ iss: undefined, aud: undefined }))).status).toBe(200);
  });
});

/** An introspection endpoint whose answer the test writes, recording each request's form. */
async function endpoint(answer: (form: URLSearchParams, res: ServerResponse) => void) {
  const forms: URLSearchParams[] = [];
  const server = await listen((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const form = new URLSearchParams(body);
      forms.push(form);
      answer(form, res);
    });
  });
  const log = captureLogger();
  const auth = createBearerAuth({
    tenantUrl: server.url,
    appId: 'orders-api',
    audience: AUDIENCE,
    ...OPAQUE,
    introspection: { ...ORDERS_API, url: `${server.url}/introspect`, negativeCacheTtl: 60 },
    logger: log.logger,
    env: {},
  });
  return { auth, forms, log, close: server.close };
}

const json = (res: ServerResponse, status: number, body: unknown) =>
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body));

describe('the kind of token introspected', () => {
  it('is named to the endpoint as an access token (token_type_hint)', async () => {
    const server = await endpoint((_form, res) => json(res, 200, { active: true, sub: 'svc' }));
    try {
      await server.auth.verify(randomOpaque());
      expect(server.forms.map((form) => form.get('token_type_hint'))).toEqual(['access_token']);
    } finally {
      await server.close();
    }
  });

  it.each([
    ['refresh_token', 401],
    ['urn:ietf:params:oauth:token-type:refresh_token', 401],
    ['id_token', 401],
    ['Bearer', 200],
    ['bearer', 200],
    ['access_token', 200],
    ['urn:ietf:params:oauth:token-type:access_token', 200],
    [undefined, 200],
  ])('token_type %s: %i', async (tokenType, status) => {
    const server = await endpoint((_form, res) => json(res, 200, { active: true, sub: 'svc', token_type: tokenType }));
    try {
      const outcome = await server.auth.verify(randomOpaque()).then(
        () => 200,
        (error: unknown) => (error instanceof InvalidTokenError && error.reason === 'unexpected_type' ? 401 : error),
      );
      expect(outcome).toBe(status);
    } finally {
      await server.close();
    }
  });
});

describe('an endpoint refusing one token', () => {
  it.each([400, 404, 413, 422])('with %i refuses that token (token_inactive, remembered), not the endpoint', async (status) => {
    const refused = randomOpaque();
    const server = await endpoint((form, res) =>
      form.get('token') === refused ? json(res, status, { error: 'invalid_request' }) : json(res, 200, { active: true }),
    );
    try {
      for (let i = 0; i < 3; i++) await expect(server.auth.verify(refused)).rejects.toMatchObject({ reason: 'token_inactive' });
      expect(server.forms).toHaveLength(1);
      // No back-off: the next token is asked about at once.
      expect((await server.auth.verify(randomOpaque())).source).toBe('introspection');
      expect(server.log.lines.filter((line) => line.msg === 'token introspection failed')).toEqual([]);
    } finally {
      await server.close();
    }
  });

  it.each([401, 403, 408, 429, 500, 503])('with %i is an outage: 503 and back-off', async (status) => {
    const server = await endpoint((_form, res) => json(res, status, { error: 'x' }));
    try {
      await expect(server.auth.verify(randomOpaque())).rejects.toMatchObject({ reason: 'introspection_unavailable' });
      await expect(server.auth.verify(randomOpaque())).rejects.toMatchObject({ reason: 'introspection_unavailable' });
      expect(server.forms).toHaveLength(1);
    } finally {
      await server.close();
    }
  });
});

describe("tokens: 'any'", () => {
  it.each([
    'aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd',
    'aaaaaaaaaa.bbbbbbbbbb.cccccccccc.dddddddddd.eeeeeeeeee',
    'a.b.c.d.e.f.g.h.i',
  ])('sends a token with more than two dots (%s) to the JWT path, never to introspection', async (token) => {
    const api = await start();
    const res = await api.call('/orders', token);
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('invalid_token');
    expect(res.body.error_description).not.toBe('token is not active');
    expect(api.issuer.introspections).toBe(0);
    const why = await api.auth.explain(token, 'orders.read');
    expect(why.checks.map((check) => check.check)).not.toContain('introspection');
    expect(api.issuer.introspections).toBe(0);
  });
});

describe('explain()', () => {
  it("withholds a member of the introspection answer that repeats the client's secret", async () => {
    const api = await start({ bearer: OPAQUE });
    const token = api.opaque({ note: `echo ${ORDERS_API.clientSecret}`, team: 'finance' });
    const why = await api.auth.explain(token, 'orders.read');
    expect(why.valid).toBe(true);
    expect(why.introspection).toMatchObject({ note: '(withheld: it repeats the client secret)', team: 'finance' });
    expect(JSON.stringify(why)).not.toContain(ORDERS_API.clientSecret);
  });
});
