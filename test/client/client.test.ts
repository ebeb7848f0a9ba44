/**
 * The client-credentials token client against the test kit's issuer over real HTTP: caching,
 * expiry with a faked clock, single flight, retries, every OAuth refusal, and no secret leaks.
 */
import { randomUUID } from 'node:crypto';
import { inspect } from 'node:util';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { ConfigError as MainConfigError, createBearerAuth } from 'cyberark-bearer';
import {
  ConfigError,
  createClientCredentials,
  TokenError,
  TokenRequestError,
  TokenUnavailableError,
  type ClientCredentialsOptions,
} from 'cyberark-bearer/client';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { configError as configErrorOf } from '../support/config.js';
import { captureLogger, silent } from '../support/logger.js';
import { json, redirect, scriptedServer, tokenAnswer, type Answer, type ScriptedServer } from '../support/scripted-server.js';
import { ECHOED_CLIENT, echoedSecretForms, echoingRefusal, SECRET_ECHOES } from '../support/secret-echoes.js';
import { sleep } from '../support/time.js';

const SECRET = 'p@ss word+%:&é';
let issuer: TestIssuer;

beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders-api' });
});
afterAll(() => issuer.close());
afterEach(() => {
  vi.useRealTimers();
  issuer.setFault('token', null);
});

/** A client registered at the issuer under a new id, so that no test shares another's cache. */
function newClient(scopes: readonly string[] = ['orders.read', 'orders.write'], overrides: ClientCredentialsOptions = {}) {
  const clientId = `svc-${randomUUID().slice(0, 8)}@cyberark.cloud.1234`;
  issuer.addClient({ clientId, clientSecret: SECRET, scopes });
  const options: ClientCredentialsOptions = {
    tenantUrl: issuer.url,
    appId: issuer.appId,
    clientId,
    clientSecret: SECRET,
    logger: silent,
    env: {},
    ...overrides,
  };
  return { clientId, options, client: createClientCredentials(options) };
}

/** Token requests the issuer receives while `run` runs. */
async function tokenRequestsDuring(run: () => Promise<unknown>): Promise<number> {
  const before = issuer.tokenRequests;
  await run();
  return issuer.tokenRequests - before;
}

/** Runs `test` against a token endpoint that answers from `answers`, and closes the endpoint after. */
async function withEndpoint(answers: readonly Answer[], test: (server: ScriptedServer) => Promise<void>): Promise<void> {
  const server = await scriptedServer(answers);
  try {
    await test(server);
  } finally {
    await server.close();
  }
}

/** A client of `server`'s token endpoint at /t, as "svc" with secret "s" unless `overrides` say otherwise. */
function endpointClient(server: ScriptedServer, overrides: ClientCredentialsOptions = {}) {
  return createClientCredentials({
    tokenUrl: `${server.url}/t`,
    clientId: 'svc',
    clientSecret: 's',
    logger: silent,
    env: {},
    ...overrides,
  });
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
  try {
    await promise;
  } catch (error) {
    return error as Error;
  }
  throw new Error('expected a rejection');
}

describe('getToken()', () => {
  it('gets a token by form-body client authentication that the middleware accepts', async () => {
    const { client, clientId } = newClient(['orders.read']);
    const token = await client.getToken();
    const verified = await createBearerAuth({ ...issuer.options, logger: silent }).verify(token);
    expect(verified.clientId).toBe(clientId);
    expect(verified.scopes).toEqual(['orders.read']);
    expect(client.config.tokenUrl).toBe(`${issuer.url}/oauth2/token/orders-api`);
  });

  it('requests the configured scopes and reports the granted ones with the expiry', async () => {
    const { client } = newClient(['orders.read', 'orders.write', 'admin'], { scope: 'orders.write orders.read' });
    const before = Math.floor(Date.now() / 1000);
    const token = await client.getAccessToken();
    expect(token.scopes).toEqual(['orders.write', 'orders.read']);
    expect(token.tokenType).toBe('Bearer');
    expect(token.expiresAt).toBeGreaterThanOrEqual(before + 3599);
    expect(token.expiresAt).toBeLessThanOrEqual(before + 3601);
  });

  it('authenticates with HTTP Basic, id and secret form-encoded first (RFC 6749 §2.3.1)', async () => {
    const { client } = newClient(['orders.read'], { authMethod: 'basic' });
    // The kit form-decodes the Basic credentials: the secret's space, +, %, : and é must survive.
    await expect(client.getToken()).resolves.toMatch(/^ey/);

    await withEndpoint([tokenAnswer()], async (server) => {
      const basic = endpointClient(server, {
        clientId: 'svc@x',
        clientSecret: 'a b+c%:',
        authMethod: 'basic',
        scope: ['s1', 's2'],
      });
      await basic.getToken();
      const [request] = server.received;
      expect(request!.headers.authorization).toBe(`Basic ${Buffer.from('svc%40x:a+b%2Bc%25%3A').toString('base64')}`);
      expect(Object.fromEntries(new URLSearchParams(request!.body))).toEqual({
        grant_type: 'client_credentials',
        scope: 's1 s2',
      });
      expect(request!.headers['content-type']).toBe('application/x-www-form-urlencoded');
    });
  });

  it('reuses the token: 50 calls, and instances built per call, cost one token request', async () => {
    const { client, options } = newClient();
    const requests = await tokenRequestsDuring(async () => {
      const first = await client.getToken();
      for (let i = 0; i < 50; i++) expect(await client.getToken()).toBe(first);
      // Built like a careless app would, per request: the process-wide cache still serves it.
      for (let i = 0; i < 10; i++) expect(await createClientCredentials(options).getToken()).toBe(first);
    });
    expect(requests).toBe(1);
  });

  it('keeps one cache per client id and scope set', async () => {
    const { options } = newClient(['a', 'b', 'c']);
    const requests = await tokenRequestsDuring(async () => {
      const ab = await createClientCredentials({ ...options, scope: 'a b' }).getToken();
      expect(await createClientCredentials({ ...options, scope: ['b', 'a', 'b'] }).getToken()).toBe(ab);
      expect(await createClientCredentials({ ...options, scope: 'a' }).getToken()).not.toBe(ab);
      const other = newClient(['a', 'b']);
      expect(await createClientCredentials({ ...other.options, scope: 'a b' }).getToken()).not.toBe(ab);
    });
    // a+b, a, and the other client's a+b (plus nothing for the reordered a+b).
    expect(requests).toBe(3);
  });

  it('requests a new token once expires_in minus the skew (60 s) has passed', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const { client } = newClient();
    const first = await client.getToken();
    vi.setSystemTime(Date.now() + (3600 - 61) * 1000);
    expect(await tokenRequestsDuring(async () => expect(await client.getToken()).toBe(first))).toBe(0);
    vi.setSystemTime(Date.now() + 2000);
    let second = '';
    expect(await tokenRequestsDuring(async () => (second = await client.getToken()))).toBe(1);
    expect(second).not.toBe(first);
    expect(await client.getToken()).toBe(second);
  });

  it('honours a configured skew', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const { client } = newClient(['orders.read'], { expirySkew: 600 });
    const first = await client.getToken();
    vi.setSystemTime(Date.now() + (3600 - 601) * 1000);
    expect(await client.getToken()).toBe(first);
    vi.setSystemTime(Date.now() + 2000);
    expect(await client.getToken()).not.toBe(first);
  });

  it('bounds the skew to half the lifetime of short-lived tokens', async () => {
    const short = await createTestIssuer({
      appId: 'short',
      tokenLifetime: 60,
      clients: [{ clientId: 'svc', clientSecret: SECRET }],
    });
    try {
      vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
      const client = createClientCredentials({
        tenantUrl: short.url,
        appId: 'short',
        clientId: 'svc',
        clientSecret: SECRET,
        logger: silent,
        env: {},
      });
      const first = await client.getToken();
      // A 60 s skew would make a 60 s token useless; it is used for 30 s instead.
      vi.setSystemTime(Date.now() + 29_000);
      expect(await client.getToken()).toBe(first);
      expect(short.tokenRequests).toBe(1);
      vi.setSystemTime(Date.now() + 2000);
      expect(await client.getToken()).not.toBe(first);
      expect(short.tokenRequests).toBe(2);
    } finally {
      await short.close();
    }
  });

  it('shares one request among 100 concurrent callers, at a cold start and at expiry', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const { options } = newClient();
    // Slow answers make sure all 100 calls are waiting at once.
    issuer.setFault('token', 'slow', { delayMs: 150 });
    const clientA = createClientCredentials(options);
    // Half on one instance, half on instances built per call: all share the process-wide cache.
    const calls = () =>
      Promise.all(Array.from({ length: 100 }, (_, i) => (i % 2 ? createClientCredentials(options) : clientA).getToken()));
    let cold: string[] = [];
    expect(await tokenRequestsDuring(async () => (cold = await calls()))).toBe(1);
    expect(new Set(cold).size).toBe(1);

    vi.setSystemTime(Date.now() + 3600 * 1000);
    let renewed: string[] = [];
    expect(await tokenRequestsDuring(async () => (renewed = await calls()))).toBe(1);
    expect(new Set(renewed).size).toBe(1);
    expect(renewed[0]).not.toBe(cold[0]);
  });

  it('keeps using a still-valid token while the issuer is down, then fails once it expires', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const log = captureLogger();
    const { client } = newClient(['orders.read'], { logger: log.logger, retry: { attempts: 2 } });
    const first = await client.getToken();
    issuer.setFault('token', 'error');
    vi.setSystemTime(Date.now() + 3570 * 1000); // within the skew, 30 s before expiry
    expect(await client.getToken()).toBe(first);
    expect(log.lines.some((l) => l.msg === 'token refresh failed; using the current token until it expires')).toBe(true);
    // Within the quiet period the held token is served without another attempt.
    expect(await tokenRequestsDuring(() => client.getToken())).toBe(0);
    vi.setSystemTime(Date.now() + 31_000);
    const error = await rejection(client.getToken());
    expect(error).toBeInstanceOf(TokenUnavailableError);
  });

  it('never serves a cached token to an instance with a wrong secret', async () => {
    const { client, options } = newClient(['orders.read']);
    await client.getToken();
    const impostor = createClientCredentials({ ...options, clientSecret: 'not the secret' });
    await expect(impostor.getToken()).rejects.toBeInstanceOf(TokenRequestError);
  });

  it('without expires_in, keeps a JWT until its exp, and anything else for 5 minutes', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.now() });
    const jwt = issuer.mint({ exp: Math.floor(Date.now() / 1000) + 600 });
    const answers = [
      json(200, { access_token: jwt, token_type: 'bearer' }),
      json(200, { access_token: 'opaque-1' }),
      tokenAnswer('opaque-2'),
    ];
    await withEndpoint(answers, async (server) => {
      const client = endpointClient(server);
      const first = await client.getAccessToken();
      expect(first.expiresAt).toBe(Math.floor(Date.now() / 1000) + 600);
      vi.setSystemTime(Date.now() + 539_000);
      expect(await client.getToken()).toBe(jwt);
      vi.setSystemTime(Date.now() + 2000);
      expect(await client.getToken()).toBe('opaque-1');
      vi.setSystemTime(Date.now() + 239_000);
      expect(await client.getToken()).toBe('opaque-1');
      vi.setSystemTime(Date.now() + 2000);
      expect(await client.getToken()).toBe('opaque-2');
      expect(server.received).toHaveLength(3);
    });
  });

  it('forgets the cached token on invalidate()', async () => {
    const { client } = newClient();
    const first = await client.getToken();
    client.invalidate('some-other-token');
    expect(await tokenRequestsDuring(() => client.getToken())).toBe(0);
    client.invalidate(first);
    // (Within the same second the kit may mint the very same token again: count requests instead.)
    expect(await tokenRequestsDuring(() => client.getToken())).toBe(1);
    client.invalidate();
    expect(await tokenRequestsDuring(() => client.getToken())).toBe(1);
  });
});

describe('retries', () => {
  it('retries a 500 with backoff and succeeds, logging each failure', async () => {
    const log = captureLogger();
    const { client } = newClient(['orders.read'], { logger: log.logger });
    issuer.setFault('token', 'error');
    const before = issuer.tokenRequests;
    const pending = client.getToken();
    while (issuer.tokenRequests === before) await sleep(5);
    issuer.setFault('token', null);
    await expect(pending).resolves.toMatch(/^ey/);
    expect(issuer.tokenRequests - before).toBe(2);
    const retry = log.lines.find((l) => l.msg === 'token request failed, retrying');
    expect(retry).toMatchObject({ level: 40, reason: 'http_status', status: 500, attempts: 1 });
    expect(retry!.retryInMs).toBeGreaterThanOrEqual(125);
    expect(log.lines.find((l) => l.msg === 'access token obtained')).toMatchObject({ attempts: 2, expiresIn: 3600 });
  });

  it.each([
    ['down', 'network', 'connection failed'],
    ['error', 'http_status', 'HTTP 500'],
    ['garbage', 'invalid_response', 'not a JSON object'],
  ] as const)('gives up after retry.attempts when the endpoint is %s', async (fault, kind, problem) => {
    const { client } = newClient(['orders.read'], { retry: { attempts: 2 } });
    issuer.setFault('token', fault);
    const before = issuer.tokenRequests;
    const error = await rejection(client.getToken());
    expect(issuer.tokenRequests - before).toBe(2);
    expect(error).toBeInstanceOf(TokenUnavailableError);
    expect(error).toBeInstanceOf(TokenError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_TOKEN_UNAVAILABLE', kind, attempts: 2 });
    expect(error.message).toContain('after 2 attempts');
    expect(error.message).toContain(problem);
  });

  it('spaces attempts by exponential backoff with jitter', async () => {
    await withEndpoint([json(500, { error: 'server_error' })], async (server) => {
      await rejection(endpointClient(server, { retry: { attempts: 3 } }).getToken());
      const gaps = server.received.slice(1).map((r, i) => r.at - server.received[i]!.at);
      expect(gaps).toHaveLength(2);
      // Waits of 250 then 500 ms, each cut by a random jitter of up to half: never shorter than
      // half (less a timer's rounding), and well short of the next doubling.
      [250, 500].forEach((base, i) => {
        expect(gaps[i]).toBeGreaterThanOrEqual(base / 2 - 5);
        expect(gaps[i]).toBeLessThan(base * 1.8);
      });
    });
  });

  it('bounds the total time: a hanging endpoint fails within retry.maxElapsed', async () => {
    const { client } = newClient(['orders.read'], { timeout: 0.2, retry: { attempts: 10, maxElapsed: 0.7 } });
    issuer.setFault('token', 'hang');
    const started = performance.now();
    const error = await rejection(client.getToken());
    const elapsed = performance.now() - started;
    expect(error).toMatchObject({ kind: 'timeout' });
    expect(elapsed).toBeGreaterThanOrEqual(400);
    expect(elapsed).toBeLessThan(1000);
  });

  it('waits as long as Retry-After asks on 429, and fails at once when that exceeds the time left', async () => {
    await withEndpoint([json(429, { error: 'slow_down' }, { 'retry-after': '1' }), tokenAnswer()], async (server) => {
      const started = performance.now();
      await expect(endpointClient(server).getToken()).resolves.toBe('opaque-token-1');
      expect(performance.now() - started).toBeGreaterThanOrEqual(950);
    });

    await withEndpoint([json(503, {}, { 'retry-after': '120' })], async (busy) => {
      const error = await rejection(endpointClient(busy).getToken());
      expect(busy.received).toHaveLength(1);
      expect(error).toMatchObject({ kind: 'http_status', status: 503, attempts: 1 });
      expect(error.message).toContain('the server asked to wait 120 s');
    });
  });
});

describe('OAuth refusals fail at once', () => {
  it.each<[string, ClientCredentialsOptions, number, string, string]>([
    ['a wrong secret', { clientSecret: 'wrong secret' }, 401, 'invalid_client', 'client authentication failed'],
    [
      'a wrong secret over Basic',
      { clientSecret: 'wrong secret', authMethod: 'basic' },
      401,
      'invalid_client',
      'client authentication failed',
    ],
    ['an unknown client', { clientId: 'nobody@cyberark.cloud.1234' }, 401, 'invalid_client', 'client authentication failed'],
    [
      'a scope the client may not have',
      { scope: 'orders.read admin' },
      400,
      'invalid_scope',
      'requested scope is not allowed for this client',
    ],
  ])('%s', async (_case, overrides, status, code, description) => {
    const { options } = newClient(['orders.read']);
    const client = createClientCredentials({ ...options, ...overrides });
    const before = issuer.tokenRequests;
    const error = (await rejection(client.getToken())) as TokenRequestError;
    expect(issuer.tokenRequests - before).toBe(1);
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error).toMatchObject({ code: 'ERR_CLIENT_TOKEN_REFUSED', status, error: code, errorDescription: description });
    expect(error.message).toBe(
      `cyberark-bearer: token request for client ${JSON.stringify(overrides.clientId ?? options.clientId)} refused by ${issuer.tokenUrl}: ${code} (${description})`,
    );
    expect(error.message).not.toContain(SECRET);
    expect(error.message).not.toContain('wrong secret');
  });

  it.each([
    ['unauthorized_client', 400, 'client credentials grant not enabled for this client'],
    ['unsupported_grant_type', 400, 'grant type not supported'],
    ['invalid_request', 400, 'missing parameter'],
    ['access_denied', 403, 'the app refuses this client'],
  ])('%s from another server', async (code, status, description) => {
    await withEndpoint([json(status, { error: code, error_description: description })], async (server) => {
      const error = await rejection(endpointClient(server).getToken());
      expect(server.received).toHaveLength(1);
      expect(error).toMatchObject({ status, error: code, errorDescription: description });
      expect(error.message).toContain(`${code} (${description})`);
    });
  });

  it('never repeats control characters from a server description', async () => {
    const answer = json(401, { error: 'invalid_client', error_description: 'bad client\r\nX-Injected: 1\u001b[31m' });
    await withEndpoint([answer], async (server) => {
      const client = endpointClient(server, { clientSecret: 'S3cr3t/with+plus' });
      const error = (await rejection(client.getToken())) as TokenRequestError;
      expect(error.errorDescription).toBe('bad client??X-Injected: 1?[31m');
    });
  });

  it.each([
    ['a quote', 'invalid"client'],
    ['a backslash', 'invalid\\client'],
    ['a non-ASCII letter', 'invalid_clïent'],
    ['a control character', 'invalid_client\n'],
    ['an empty string', ''],
    ['65 characters', 'x'.repeat(65)],
    ['a number', 401],
  ])('takes an error code with %s for no code at all (RFC 6749 §5.2 syntax)', async (_case, code) => {
    await withEndpoint([json(400, { error: code, error_description: 'details' })], async (server) => {
      const error = (await rejection(endpointClient(server, { clientSecret: 'secret' }).getToken())) as TokenRequestError;
      expect(error).toMatchObject({ status: 400, error: undefined, errorDescription: undefined });
      expect(error.message).toBe(`cyberark-bearer: token request for client "svc" refused by ${server.url}/t: HTTP 400`);
    });
  });

  it('names the HTTP status when there is no OAuth error, with a hint for 404', async () => {
    await withEndpoint([(_req, res) => res.writeHead(404).end('Not Found')], async (server) => {
      const error = await rejection(endpointClient(server, { tokenUrl: `${server.url}/oauth2/token/typo` }).getToken());
      expect(error).toMatchObject({ status: 404, error: undefined });
      expect(error.message).toContain('HTTP 404: no token endpoint there: check tenantUrl and appId (or tokenUrl)');
    });
  });

  it('does not follow a redirect, which would resend the secret', async () => {
    await withEndpoint([tokenAnswer()], async (target) => {
      await withEndpoint([redirect(307, `${target.url}/elsewhere?x=1`)], async (server) => {
        const error = await rejection(endpointClient(server).getToken());
        expect(error).toBeInstanceOf(TokenRequestError);
        expect(error.message).toContain(`redirected to ${target.url}/elsewhere, which is not followed`);
        expect(target.received).toHaveLength(0);
      });
    });
  });

  it('refuses an answer whose token_type is not Bearer', async () => {
    await withEndpoint([json(200, { access_token: 'x', token_type: 'DPoP', expires_in: 60 })], async (server) => {
      await expect(endpointClient(server, { retry: { attempts: 1 } }).getToken()).rejects.toMatchObject({
        kind: 'invalid_response',
        message: expect.stringContaining('not Bearer'),
      });
    });
  });
});

describe('a token endpoint that echoes the secret', () => {
  const cases = SECRET_ECHOES.flatMap(([form, basic, echo]) =>
    (['error_description', 'error'] as const).map((field) => [form, field, basic, echo] as const),
  );

  it.each(cases)('%s, in %s: never in the error or the logs', async (_form, field, basic, echo) => {
    const log = captureLogger();
    await withEndpoint([echoingRefusal(field, echo)], async (server) => {
      const client = endpointClient(server, { ...ECHOED_CLIENT, authMethod: basic ? 'basic' : 'body', logger: log.logger });
      const error = (await rejection(client.getToken())) as TokenRequestError;
      expect(error).toBeInstanceOf(TokenRequestError);
      expect(log.lines.map((l) => l.msg)).toContain('token request refused');
      const everything = [error.message, inspect(error), JSON.stringify(error), log.text()].join('\n').toLowerCase();
      for (const form of echoedSecretForms()) expect(everything).not.toContain(form.toLowerCase());
      if (field === 'error') {
        expect(error.error).toBeUndefined();
      } else {
        expect(error).toMatchObject({ error: 'invalid_client', errorDescription: undefined });
        expect(error.message).toContain('invalid_client (error_description withheld: it repeats the client secret)');
      }
    });
  });

  it('shows a description that only looks like encoded text', async () => {
    const description = 'client authentication failed: invalid_client%20 c3ZjQGVjaG8= \\"x\\"';
    await withEndpoint([json(401, { error: 'invalid_client', error_description: description })], async (server) => {
      await expect(endpointClient(server, ECHOED_CLIENT).getToken()).rejects.toMatchObject({ errorDescription: description });
    });
  });
});

describe('the secret and the token stay out of messages and logs', () => {
  it('in every log line and error of a success, a refusal and an outage', async () => {
    const log = captureLogger('debug');
    const { options } = newClient(['orders.read'], { logger: log.logger, retry: { attempts: 2 } });
    const client = createClientCredentials(options);
    const token = await client.getToken();
    const refused = await rejection(createClientCredentials({ ...options, scope: 'admin' }).getToken());
    issuer.setFault('token', 'error');
    const down = await rejection(
      createClientCredentials({ ...options, scope: 'orders.read orders.read', authMethod: 'basic' }).getToken(),
    );
    issuer.setFault('token', null);

    expect(log.lines.map((l) => l.msg)).toEqual(
      expect.arrayContaining([
        'access token obtained',
        'token request refused',
        'token request failed, retrying',
        'token request failed',
      ]),
    );
    const everything = [
      log.text(),
      refused.message,
      down.message,
      inspect(refused),
      inspect(down),
      JSON.stringify(refused),
      JSON.stringify(down),
      inspect(client, { depth: 5 }),
      JSON.stringify(client),
    ].join('\n');
    for (const form of [SECRET, encodeURIComponent(SECRET), new URLSearchParams([['', SECRET]]).toString().slice(1)]) {
      expect(everything).not.toContain(form);
    }
    expect(everything).not.toContain(token);
    expect(everything).not.toContain(token.split('.')[2]);
  });

  it('in configuration errors', () => {
    const secret = 'line1\nline2-secret';
    const error = configErrorOf(() =>
      createClientCredentials({ tokenUrl: 'https://x.example/t', clientId: 'svc', clientSecret: secret, env: {} }),
    );
    expect(error.option).toBe('clientSecret');
    expect(error.message).not.toContain('line2-secret');
  });
});

describe('configuration', () => {
  const valid: ClientCredentialsOptions = {
    tenantUrl: 'https://abc1234.id.cyberark.cloud',
    appId: 'orders-api',
    clientId: 'svc@cyberark.cloud.1234',
    clientSecret: 's',
    logger: silent,
    env: {},
  };

  function configError(options: unknown): ConfigError {
    const error = configErrorOf(() => createClientCredentials(options as ClientCredentialsOptions));
    expect(error).toBeInstanceOf(ConfigError);
    // The same class as cyberark-bearer's, so one catch serves both.
    expect(error).toBeInstanceOf(MainConfigError);
    return error;
  }

  it('derives the CyberArk token URL and defaults', () => {
    const { config } = createClientCredentials(valid);
    expect(config).toMatchObject({
      tokenUrl: 'https://abc1234.id.cyberark.cloud/oauth2/token/orders-api',
      clientId: 'svc@cyberark.cloud.1234',
      scopes: [],
      authMethod: 'body',
      expirySkew: 60,
      timeout: 5,
      retry: { attempts: 3, maxElapsed: 10 },
    });
    expect(Object.isFrozen(config)).toBe(true);
    expect(JSON.stringify(config)).not.toContain('"s"');
  });

  it('reads CYBERARK_* from env, and options win over it', () => {
    const env = {
      CYBERARK_TENANT_URL: 'https://abc1234.id.cyberark.cloud/',
      CYBERARK_APP_ID: 'from-env',
      CYBERARK_CLIENT_ID: 'svc-env',
      CYBERARK_CLIENT_SECRET: 'env-secret',
    };
    expect(createClientCredentials({ logger: silent, env }).config).toMatchObject({
      tokenUrl: 'https://abc1234.id.cyberark.cloud/oauth2/token/from-env',
      clientId: 'svc-env',
    });
    expect(createClientCredentials({ logger: silent, env, appId: 'given', clientId: 'svc-given' }).config).toMatchObject({
      tokenUrl: 'https://abc1234.id.cyberark.cloud/oauth2/token/given',
      clientId: 'svc-given',
    });
    expect(createClientCredentials({ logger: silent, env, tokenUrl: 'https://issuer.example/token' }).config.tokenUrl).toBe(
      'https://issuer.example/token',
    );
  });

  it.each<[string, ClientCredentialsOptions, string, RegExp]>([
    [
      'no secret',
      { clientSecret: undefined },
      'clientSecret',
      /option "clientSecret" \(env CYBERARK_CLIENT_SECRET\) is required/,
    ],
    ['no client id', { clientId: undefined }, 'clientId', /option "clientId" \(env CYBERARK_CLIENT_ID\) is required/],
    [
      'no tenant',
      { tenantUrl: undefined },
      'tenantUrl',
      /option "tenantUrl" \(env CYBERARK_TENANT_URL\) is required \(or tokenUrl\)/,
    ],
    ['no app id', { appId: undefined }, 'appId', /option "appId" \(env CYBERARK_APP_ID\) is required with tenantUrl/],
    [
      'a tenant URL with a path',
      { tenantUrl: 'https://abc1234.id.cyberark.cloud/orders-api' },
      'tenantUrl',
      /base URL with no path/,
    ],
    ['plain http to a remote host', { tenantUrl: 'http://abc1234.id.cyberark.cloud' }, 'tenantUrl', /must use https/],
    ['an app id with a slash', { appId: 'a/b' }, 'appId', /Application ID/],
    ['a scope with a quote', { scope: ['orders.read', 'a"b'] }, 'scope', /invalid scope "a\\"b"/],
    ['an unknown auth method', { authMethod: 'post' as 'body' }, 'authMethod', /"body" or "basic", got "post"/],
    ['a typo', { clientSecert: 'x' } as ClientCredentialsOptions, 'clientSecert', /not an option of createClientCredentials/],
    ['no attempts', { retry: { attempts: 0 } }, 'retry.attempts', /integer from 1 to 10/],
    ['an unknown retry option', { retry: { tries: 2 } as never }, 'retry.tries', /not an option/],
    ['a negative skew', { expirySkew: -1 }, 'expirySkew', /at least 0 seconds/],
    ['a zero timeout', { timeout: 0 }, 'timeout', /greater than 0 seconds/],
    ['a logger that is not one', { logger: console.log as never }, 'logger', /pino logger/],
    ['env: null (not "unset")', { env: null as never }, 'env', /must be an object of environment variables, got null/],
    [
      'a CYBERARK_TENANT_URL that is not a string',
      { tenantUrl: undefined, env: { CYBERARK_TENANT_URL: 42 as never } },
      'tenantUrl',
      /\(env CYBERARK_TENANT_URL\) must be a string in the environment, got number/,
    ],
    [
      'a LOG_LEVEL that is not a string',
      { logger: undefined, env: { LOG_LEVEL: 30 as never } },
      'logger',
      /LOG_LEVEL must be a string, got number/,
    ],
    ['a timeout longer than a Node.js timer', { timeout: 3_000_000 }, 'timeout', /at most 2147483 seconds/],
    [
      'a retry time longer than a Node.js timer',
      { retry: { maxElapsed: 3_000_000 } },
      'retry.maxElapsed',
      /at most 2147483 seconds/,
    ],
    ['retry: null', { retry: null as never }, 'retry', /must be an object, got null/],
  ])('refuses %s', (_case, overrides, option, message) => {
    const error = configError({ ...valid, ...overrides });
    expect(error.option).toBe(option);
    expect(error.message).toMatch(message);
  });
});
