/**
 * Redirects of every outgoing request (JWKS, discovery, token endpoint): each hop, not only the
 * last, must be https, loopback, or allowed by allowInsecureHttp, and the chain is short.
 *
 * A "non-loopback" hop here is `http://0.0.0.0:<port>`: the transport rule does not count 0.0.0.0
 * as loopback, yet a connection to it reaches this machine, so a server of ours there proves by
 * its empty request log that the hop was refused before connecting, and no test sends a packet
 * off the machine.
 */
import request from 'supertest';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, KeysFetchError, type BearerAuthOptions } from 'cyberark-bearer';
import { createClientCredentials, TokenRequestError } from 'cyberark-bearer/client';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { guardedApp } from './support/apps.js';
import { captureLogger, silent } from './support/logger.js';
import {
  json,
  redirect,
  routed,
  scriptedServer,
  tokenAnswer,
  type Answer,
  type ScriptedServer,
} from './support/scripted-server.js';

let issuer: TestIssuer;
const servers: ScriptedServer[] = [];

beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api' });
});
afterAll(() => issuer.close());
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function serve(answer: Answer): Promise<ScriptedServer> {
  const server = await scriptedServer([answer]);
  servers.push(server);
  return server;
}

/** A server on 0.0.0.0's port: plain http to a host the rule calls non-loopback. */
async function cleartextHost(answer: Answer): Promise<{ server: ScriptedServer; url: string }> {
  const server = await serve(answer);
  return { server, url: server.url.replace('127.0.0.1', '0.0.0.0') };
}

/** The kit's JWKS, served as it is, behind a JSON answer of ours. */
const jwksAnswer: Answer = (_req, res) => {
  void fetch(issuer.jwksUri).then(async (r) => res.writeHead(200, { 'content-type': 'application/json' }).end(await r.text()));
};

/** The kit's JWKS behind a server of ours, and a server of redirect hops (by path, given the keys' URL) towards it. */
async function hopsToKeys(hops: (keysUrl: string) => Record<string, Answer>) {
  const keys = await serve(jwksAnswer);
  return { keys, hops: await serve(routed(hops(keys.url))) };
}

/** A guarded app whose key source is given by `options`; its log and ready() for the checks. */
function guard(options: Partial<BearerAuthOptions>) {
  const log = captureLogger();
  const auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {}, ...options });
  const app = guardedApp(auth.requireToken());
  return {
    auth,
    log,
    call: (token = issuer.mint()) => request(app).get('/x').set('Authorization', `Bearer ${token}`),
    failures: (msg: string) => log.lines.filter((l) => l.msg === msg).map((l) => l.reason),
  };
}

async function readyError(auth: { ready(): Promise<void> }): Promise<KeysFetchError> {
  try {
    await auth.ready();
  } catch (error) {
    expect(error).toBeInstanceOf(KeysFetchError);
    return error as KeysFetchError;
  }
  throw new Error('expected ready() to fail');
}

describe('redirects from a remote host to this machine', () => {
  it('are refused, even with allowInsecureHttp: a remote key server cannot make us probe local services', async () => {
    const local = await serve(jwksAnswer);
    const remote = await cleartextHost(redirect(302, `${local.url}/keys`));
    const { auth } = guard({ jwksUri: `${remote.url}/keys`, allowInsecureHttp: true });

    const error = await readyError(auth);
    expect(error.message).toContain(`redirect to ${local.url}/keys refused`);
    expect(remote.server.received).toHaveLength(1);
    expect(local.received).toHaveLength(0);
  });

  it('are followed when the request started on this machine', async () => {
    const local = await serve(jwksAnswer);
    const first = await serve(redirect(302, `${local.url}/keys`));
    const { auth } = guard({ jwksUri: `${first.url}/keys` });
    await auth.ready();
    expect(local.received).toHaveLength(1);
  });
});

describe('JWKS fetch', () => {
  it('follows up to 3 loopback redirects, relative ones resolved against the current URL', async () => {
    const { hops } = await hopsToKeys((keysUrl) => ({
      '/a/keys': redirect(302, 'next'),
      '/a/next': redirect(301, '/b/keys?x=1'),
      '/b/keys': redirect(307, `${keysUrl.replace('127.0.0.1', 'localhost')}/jwks`),
    }));
    const { auth, call } = guard({ jwksUri: `${hops.url}/a/keys` });
    await auth.ready();
    expect(hops.received.map((r) => r.url)).toEqual(['/a/keys', '/a/next', '/b/keys?x=1']);
    expect((await call()).status).toBe(200);
  });

  it('refuses a plain http hop to a non-loopback host in the middle of the chain, before connecting', async () => {
    const keys = await serve(jwksAnswer);
    const middle = await cleartextHost(redirect(302, `${keys.url}/jwks`));
    const start = await serve(redirect(302, `${middle.url}/hop?sig=query-secret`));
    const { auth, call, failures } = guard({ jwksUri: `${start.url}/keys` });

    const error = await readyError(auth);
    expect(error.message).toBe(
      `cyberark-bearer: cannot fetch signing keys from ${start.url}/keys: redirect to ${middle.url}/hop refused: plain http is allowed only to loopback hosts (or with allowInsecureHttp)`,
    );
    expect(middle.server.received).toHaveLength(0);
    expect(keys.received).toHaveLength(0);
    expect(failures('signing keys fetch failed')).toEqual(['insecure_redirect']);

    const res = await call();
    expect(res.status).toBe(503);
    expect(middle.server.received).toHaveLength(0);
  });

  it('takes the same hop with allowInsecureHttp', async () => {
    const keys = await serve(jwksAnswer);
    const middle = await cleartextHost(redirect(302, `${keys.url}/jwks`));
    const start = await serve(redirect(302, `${middle.url}/hop`));
    const { auth, call } = guard({ jwksUri: `${start.url}/keys`, allowInsecureHttp: true });
    await auth.ready();
    expect(middle.server.received).toHaveLength(1);
    expect((await call()).status).toBe(200);
  });

  it('refuses a redirect to another scheme, even with allowInsecureHttp', async () => {
    const start = await serve(redirect(302, 'file:///etc/passwd?x=1'));
    const { auth, failures } = guard({ jwksUri: `${start.url}/keys`, allowInsecureHttp: true });
    const error = await readyError(auth);
    expect(error.message).toContain('redirect to file:///etc/passwd refused');
    expect(failures('signing keys fetch failed')).toEqual(['insecure_redirect']);
  });

  it.each([
    [
      'credentials',
      (url: string) => `http://user:pass-secret@${url.slice('http://'.length)}/keys`,
      'bad_redirect',
      'refused: it carries credentials',
    ],
    ['an unreadable Location', () => 'http://[', 'bad_redirect', 'redirect to an unreadable Location refused'],
    ['no Location at all', undefined, 'http_status', 'HTTP 302'],
  ] as const)('refuses a redirect with %s', async (_case, location, reason, message) => {
    const keys = await serve(jwksAnswer);
    const start = await serve(location ? redirect(302, location(keys.url)) : (_req, res) => res.writeHead(302).end());
    const { auth, failures } = guard({ jwksUri: `${start.url}/keys` });
    const error = await readyError(auth);
    expect(error.message).toContain(message);
    expect(error.message).not.toContain('pass-secret');
    expect(failures('signing keys fetch failed')).toEqual([reason]);
    expect(keys.received).toHaveLength(0);
  });

  it('follows 3 redirects and refuses a fourth, without asking where it points', async () => {
    const { keys, hops } = await hopsToKeys((keysUrl) => ({
      '/1': redirect(302, '/2'),
      '/2': redirect(302, '/3'),
      '/3': redirect(302, '/4'),
      '/4': redirect(302, `${keysUrl}/jwks`),
    }));
    const { auth, call, failures } = guard({ jwksUri: `${hops.url}/1` });
    const error = await readyError(auth);
    expect(error.message).toContain(`more than 3 redirects (the last to ${keys.url}/jwks)`);
    expect(hops.received.map((r) => r.url)).toEqual(['/1', '/2', '/3', '/4']);
    expect(keys.received).toHaveLength(0);
    expect(failures('signing keys fetch failed')).toEqual(['too_many_redirects']);
    expect((await call()).status).toBe(503);
  });
});

describe('discovery', () => {
  /** An issuer of ours whose metadata points at the kit's JWKS, so the kit's key signs its tokens. */
  async function discoveredIssuer(wellKnown: (issuerUrl: string) => Answer) {
    let issuerUrl = '';
    const metadata: Answer = (req, res) => json(200, { issuer: issuerUrl, jwks_uri: issuer.jwksUri })(req, res);
    const server = await serve(
      routed({ '/tenant/.well-known/openid-configuration': (req, res) => wellKnown(issuerUrl)(req, res), '/meta': metadata }),
    );
    issuerUrl = `${server.url}/tenant`;
    return { server, issuerUrl };
  }

  const discoveryOptions = (issuerUrl: string): Partial<BearerAuthOptions> => ({
    tenantUrl: undefined,
    appId: undefined,
    jwksUri: undefined,
    issuer: issuerUrl,
  });

  it('follows a loopback redirect of the well-known document', async () => {
    const { server, issuerUrl } = await discoveredIssuer(() => redirect(308, '../../meta?from=well-known'));
    const { auth, call } = guard(discoveryOptions(issuerUrl));
    await auth.ready();
    expect(server.received.map((r) => r.url)).toEqual(['/tenant/.well-known/openid-configuration', '/meta?from=well-known']);
    expect((await call(issuer.mint({ iss: issuerUrl }))).status).toBe(200);
  });

  it('refuses a plain http hop to a non-loopback host, naming it without its query', async () => {
    let middle: { server: ScriptedServer; url: string } | undefined;
    const { issuerUrl, server } = await discoveredIssuer(() => redirect(302, `${middle!.url}/meta?token=query-secret`));
    // The cleartext hop would send it back to genuine metadata: only the hop itself is wrong.
    middle = await cleartextHost(redirect(302, `${server.url}/meta`));
    const { auth, call, failures } = guard(discoveryOptions(issuerUrl));

    const error = await readyError(auth);
    expect(error.message).toBe(
      `cyberark-bearer: cannot fetch signing keys from ${issuerUrl}/.well-known/openid-configuration: redirect to ${middle.url}/meta refused: plain http is allowed only to loopback hosts (or with allowInsecureHttp)`,
    );
    expect(middle.server.received).toHaveLength(0);
    expect(server.received).toHaveLength(1);
    expect(failures('issuer discovery failed')).toEqual(['insecure_redirect']);
    expect((await call(issuer.mint({ iss: issuerUrl }))).status).toBe(503);
    expect(middle.server.received).toHaveLength(0);
  });
});

describe('token endpoint', () => {
  const clientOf = (endpoint: ScriptedServer) =>
    createClientCredentials({
      tokenUrl: `${endpoint.url}/token`,
      clientId: 'svc',
      clientSecret: 'redirect-secret',
      logger: silent,
      env: {},
    });

  it('refuses a redirect to plain http on a non-loopback host, before connecting', async () => {
    const target = await cleartextHost(tokenAnswer());
    const endpoint = await serve(redirect(307, `${target.url}/token?client_secret=query-secret`));
    const client = clientOf(endpoint);
    const error = await client.getToken().then(
      () => undefined,
      (e: unknown) => e as TokenRequestError,
    );
    expect(error).toBeInstanceOf(TokenRequestError);
    expect(error!.status).toBe(307);
    expect(error!.message).toContain(`redirected to ${target.url}/token, which is refused: neither https nor loopback`);
    expect(error!.message).not.toContain('query-secret');
    expect(target.server.received).toHaveLength(0);
    expect(endpoint.received).toHaveLength(1);
  });

  it('still follows no redirect over https or loopback: it would resend the secret', async () => {
    const target = await serve(tokenAnswer());
    const endpoint = await serve(redirect(308, `${target.url}/token`));
    const client = clientOf(endpoint);
    await expect(client.getToken()).rejects.toThrow(
      `redirected to ${target.url}/token, which is not followed (it would resend the secret)`,
    );
    expect(target.received).toHaveLength(0);
  });
});
