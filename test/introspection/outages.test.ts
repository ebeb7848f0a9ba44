/**
 * The introspection endpoint down, slow, hanging, answering garbage or redirecting: requests that
 * need it get 503 with Retry-After (fail closed, with back-off as for the keys), the others keep
 * working, and neither the secret nor a token reaches a log line.
 */
import { describe, expect, it } from 'vitest';
import { ConfigError, createBearerAuth } from 'cyberark-bearer';
import { FAULTS } from '../support/faults.js';
import { listen } from '../support/http.js';
import { silent } from '../support/logger.js';
import { ORDERS_API, perTest } from './harness.js';

const { start, fakeClock } = perTest();
const LIMITS = { keyCache: { timeout: 0.5, cooldown: 4 } };
const UNAVAILABLE = { error: 'temporarily_unavailable', error_description: 'token introspection unavailable, try again later' };

describe('an introspection endpoint that fails', () => {
  it.each(FAULTS)('(%s) gets 503 with Retry-After, while JWT routes keep working', async (fault, reason) => {
    const api = await start({ bearer: LIMITS });
    const cached = api.opaque({ jti: 'cached' });
    expect((await api.call('/orders', cached)).status).toBe(200);
    api.issuer.setFault('introspect', fault);
    const res = await api.call('/orders', api.opaque());
    expect(res.status).toBe(503);
    expect(res.body).toEqual(UNAVAILABLE);
    expect(Number(res.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    expect(res.headers.get('www-authenticate')).toBeNull();
    expect(api.logged('token introspection failed')).toMatchObject([{ reason, url: api.issuer.introspectionUrl, failures: 1 }]);
    expect(api.logged('bearer token refused').at(-1)).toMatchObject({ reason: 'introspection_unavailable', status: 503 });
    // Local verification and cached answers do not need the endpoint.
    const jwt = api.jwt();
    expect((await api.call('/orders', jwt)).status).toBe(200);
    expect((await api.call('/orders', cached)).status).toBe(200);
    // A revocation-sensitive route cannot do without it.
    expect((await api.call('/payments', jwt)).status).toBe(503);
  });

  it('is not called again before the back-off has passed, then recovers', async () => {
    const api = await start({ bearer: LIMITS });
    const clock = fakeClock();
    api.issuer.setFault('introspect', 'error');
    expect((await api.call('/orders', api.opaque())).headers.get('retry-after')).toBe('1');
    expect(api.issuer.introspections).toBe(1);
    api.issuer.setFault('introspect', null);
    const token = api.opaque();
    expect((await api.call('/orders', token)).status).toBe(503);
    expect(api.issuer.introspections).toBe(1);
    clock.advance(1);
    api.issuer.setFault('introspect', 'error');
    expect((await api.call('/orders', token)).headers.get('retry-after')).toBe('2'); // doubled
    clock.advance(2);
    api.issuer.setFault('introspect', null);
    expect((await api.call('/orders', token)).status).toBe(200);
    expect(api.issuer.introspections).toBe(3);
    expect(api.logged('token introspection recovered')).toMatchObject([{ failedCalls: 2 }]);
  });

  it('answers within the timeout when merely slow', async () => {
    const api = await start({ bearer: LIMITS });
    api.issuer.setFault('introspect', 'slow', { delayMs: 100 });
    expect((await api.call('/orders', api.opaque())).status).toBe(200);
  });

  it('that redirects is not followed (the credentials would go along): 503, nothing reaches the target', async () => {
    const api = await start({ bearer: LIMITS });
    const redirecting = await listen((_req, res) => res.writeHead(307, { location: api.issuer.introspectionUrl }).end());
    try {
      const auth = createBearerAuth({
        ...api.issuer.options,
        tokens: 'opaque',
        introspection: { ...ORDERS_API, url: `${redirecting.url}/introspect` },
        logger: api.log.logger,
        env: {},
      });
      await expect(auth.verify(api.opaque())).rejects.toMatchObject({ status: 503, reason: 'introspection_unavailable' });
      expect(api.issuer.introspections).toBe(0);
      expect(api.logged('token introspection failed')).toMatchObject([{ reason: 'too_many_redirects', status: 307 }]);
    } finally {
      await redirecting.close();
    }
  });

  it('never gets the secret or the token into a log line, whatever it answers', async () => {
    const api = await start({ bearer: LIMITS });
    const echoed: string[] = [];
    // Echoes the whole request back, as a careless proxy's error page might.
    const echo = await listen((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const text = `${req.headers.authorization} ${body} ${ORDERS_API.clientSecret}`;
        echoed.push(text);
        res.writeHead(echoed.length === 1 ? 500 : 200, { 'content-type': 'text/plain' }).end(text);
      });
    });
    try {
      const auth = createBearerAuth({
        ...api.issuer.options,
        tokens: 'opaque',
        introspection: { ...ORDERS_API, url: `${echo.url}/introspect` },
        keyCache: { cooldown: 1 },
        logger: api.log.logger,
        env: {},
      });
      const token = api.opaque();
      await expect(auth.verify(token)).rejects.toMatchObject({ status: 503 });
      const clock = fakeClock();
      clock.advance(1);
      await expect(auth.verify(token)).rejects.toMatchObject({ status: 503 });
      expect(echoed).toHaveLength(2);
      const logged = api.log.text();
      const basic = echoed[0]!.split(' ')[1]!;
      for (const secret of [ORDERS_API.clientSecret, encodeURIComponent(ORDERS_API.clientSecret), basic, token]) {
        expect(logged).not.toContain(secret);
      }
      expect(JSON.stringify(auth.config)).not.toContain(ORDERS_API.clientSecret);
      expect(api.logged('token introspection failed').map((l) => l.reason)).toEqual(['http_status', 'not_json']);
    } finally {
      await echo.close();
    }
  });
});

describe('the endpoint URL', () => {
  it('is held to the transport rule: https, or http to loopback or with allowInsecureHttp', async () => {
    const api = await start();
    const options = { ...api.issuer.options, tokens: 'opaque' as const, logger: silent, env: {} };
    expect(() =>
      createBearerAuth({ ...options, introspection: { ...ORDERS_API, url: 'http://idp.example.com/OAuth2/Introspect/x' } }),
    ).toThrow(/option "introspection\.url" \(env CYBERARK_INTROSPECTION_URL\) must use https/);
    expect(
      createBearerAuth({
        ...options,
        allowInsecureHttp: true,
        introspection: { ...ORDERS_API, url: 'http://idp.example.com/OAuth2/Introspect/x' },
      }).config.introspection?.url,
    ).toBe('http://idp.example.com/OAuth2/Introspect/x');
    expect(() =>
      createBearerAuth({ ...options, introspection: { ...ORDERS_API, url: 'https://u:p@idp.example.com/x' } }),
    ).toThrow(ConfigError);
  });
});
