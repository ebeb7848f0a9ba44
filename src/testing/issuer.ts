/**
 * A local stand-in for a CyberArk Identity tenant: a real HTTP server on 127.0.0.1 serving the
 * token, JWKS and discovery endpoints, minting CyberArk-shaped tokens, with faults on demand.
 */
import {
  createHash, createHmac, generateKeyPairSync, randomBytes, randomUUID, sign, timingSafeEqual, constants,
  type KeyObject, type JsonWebKey,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

export interface TestClient {
  /** The service user's login, e.g. `svc-reporting@cyberark.cloud.1234`. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Scopes this client may request; a request without `scope` gets all of them. Default none. */
  readonly scopes?: readonly string[];
  /** The `sub` of its tokens. Default: a random UUID. */
  readonly subject?: string;
  /** Extra claims put in its tokens (as a CyberArk claims script would). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export interface TestIssuerOptions {
  /** Application ID, the last path segment of every endpoint. Default `test-app`. */
  appId?: string;
  /** `aud` of minted tokens. Default: the app id. */
  audience?: string | readonly string[];
  /** `iss` of minted tokens. Default `${url}/${appId}/`, as CyberArk does. */
  issuer?: string;
  /** Confidential clients allowed at the token endpoint. */
  clients?: readonly TestClient[];
  /** Lifetime of minted tokens in seconds. Default 3600. */
  tokenLifetime?: number;
  /** Port to listen on. Default 0 (a free one). */
  port?: number;
}

/** How an endpoint misbehaves: `down` drops the connection, `error` answers 500, `garbage`
 * answers 200 with HTML, `empty` an empty key set, `huge` a 4 MB key set, `slow` answers after
 * `delayMs`, `hang` never answers. */
export type Fault = 'down' | 'error' | 'garbage' | 'empty' | 'huge' | 'slow' | 'hang';
export type Endpoint = 'jwks' | 'token' | 'discovery';

export interface MintOptions {
  /** Sign with this key instead of the issuer's current one: a private KeyObject, or an HMAC secret. */
  key?: KeyObject | Uint8Array | string;
}

export interface BearerOptionsForIssuer {
  readonly tenantUrl: string;
  readonly appId: string;
  readonly audience: string | readonly string[];
  readonly issuer: string;
  readonly jwksUri: string;
}

export interface TestIssuer {
  /** Base URL, e.g. `http://127.0.0.1:43123` (the "tenant URL"). */
  readonly url: string;
  readonly appId: string;
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly tokenUrl: string;
  readonly jwksUri: string;
  readonly discoveryUrl: string;
  /** Options for `createBearerAuth()` / `requireToken()` that trust this issuer. */
  readonly options: BearerOptionsForIssuer;
  /** Key id of the current signing key. */
  readonly kid: string;
  /** Key ids published in the JWKS. */
  readonly kids: readonly string[];
  /** Requests received by each endpoint (faulty answers included). */
  readonly jwksFetches: number;
  readonly tokenRequests: number;
  readonly discoveryFetches: number;
  /**
   * Signs a token. Claims default to a CyberArk client-credentials token (iss, aud, sub,
   * unique_name, app_id, iat, exp); the header to `{ alg: 'RS256', kid, typ: 'JWT' }`.
   * A value of `undefined` removes a claim or header parameter. `alg: 'none'` gives an unsigned
   * token; HS*, ES*, PS* and EdDSA work with a fitting `options.key`.
   */
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>, options?: MintOptions): string;
  /** A new signing key becomes current. The old one stays published unless `keepPrevious: false`. */
  rotateKey(options?: { keepPrevious?: boolean }): string;
  /** Stops publishing a key (its tokens then fail once verifiers refresh). */
  removeKey(kid: string): void;
  /** The published JWKS. */
  jwks(): { keys: JsonWebKey[] };
  /** Makes an endpoint misbehave until called again with `null`. */
  setFault(endpoint: Endpoint, fault: Fault | null, options?: { delayMs?: number }): void;
  /** `Cache-Control` sent with the JWKS; none by default. */
  setJwksCacheControl(value: string | undefined): void;
  addClient(client: TestClient): void;
  resetCounters(): void;
  close(): Promise<void>;
}

interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly jwk: JsonWebKey;
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function newRsaKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint as key id: members in lexicographic order.
  const kid = b64url(createHash('sha256').update(JSON.stringify({ e, kty: 'RSA', n })).digest());
  return { kid, privateKey, jwk: { kty: 'RSA', n, e, kid, use: 'sig', alg: 'RS256' } };
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** JWS signature of `input` for `alg` (RFC 7518 §3), with node:crypto. */
function signature(alg: string, input: string, key: KeyObject | Uint8Array | string): Buffer {
  if (alg.toLowerCase() === 'none') return Buffer.alloc(0);
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  if (family === 'HS' && hash) {
    const secret = typeof key === 'string' || key instanceof Uint8Array ? key : key.export();
    return createHmac(hash, secret).update(input).digest();
  }
  if (typeof key === 'string' || key instanceof Uint8Array) throw new TypeError(`mint: ${alg} needs a private KeyObject`);
  if (family === 'RS' && hash) return sign(hash, Buffer.from(input), key);
  if (family === 'PS' && hash) {
    return sign(hash, Buffer.from(input), { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  }
  if (family === 'ES' && hash) return sign(hash, Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, Buffer.from(input), key);
  throw new TypeError(`mint: cannot sign with alg ${JSON.stringify(alg)}`);
}

function withoutUndefined(base: Record<string, unknown>, overrides: Record<string, unknown> | undefined): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...overrides };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), ...headers });
  res.end(text);
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** RFC 6749 §2.3.1: Basic credentials are form-urlencoded before base64. */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined | null {
  if (!header || !/^basic /i.test(header)) return undefined;
  const decoded = Buffer.from(header.slice(6).trim(), 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon === -1) return null;
  const unform = (s: string) => decodeURIComponent(s.replace(/\+/g, ' '));
  try {
    return { id: unform(decoded.slice(0, colon)), secret: unform(decoded.slice(colon + 1)) };
  } catch {
    return null;
  }
}

function readBody(req: IncomingMessage, limit: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        resolve(undefined);
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', () => resolve(undefined));
  });
}

/** Starts a local issuer. Close it with `await issuer.close()`. */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const appId = options.appId ?? 'test-app';
  if (!/^[A-Za-z0-9._~-]+$/.test(appId)) throw new TypeError('createTestIssuer: appId must be URL-safe (letters, digits, . _ ~ -)');
  const audience = options.audience ?? appId;
  const lifetime = options.tokenLifetime ?? 3600;
  const clients = new Map<string, TestClient & { subject: string }>();
  const addClient = (client: TestClient): void => {
    if (!client.clientId || !client.clientSecret) throw new TypeError('createTestIssuer: a client needs clientId and clientSecret');
    clients.set(client.clientId, { ...client, subject: client.subject ?? randomUUID() });
  };
  for (const client of options.clients ?? []) addClient(client);

  let current = newRsaKey();
  const published = new Map<string, SigningKey>([[current.kid, current]]);
  const faults = new Map<Endpoint, { fault: Fault; delayMs: number }>();
  const counters = { jwks: 0, token: 0, discovery: 0 };
  let jwksCacheControl: string | undefined;
  const sockets = new Set<Socket>();
  const timers = new Set<NodeJS.Timeout>();
  const defaultSubject = randomUUID();

  // Known once the server listens; the handler reads them only after that.
  let url = '';
  let issuer = '';
  let jwksUri = '';
  let tokenUrl = '';
  const paths = {
    token: `/oauth2/token/${appId}`.toLowerCase(),
    jwks: `/oauth2/keys/${appId}`.toLowerCase(),
    discovery: `/${appId}/.well-known/openid-configuration`.toLowerCase(),
  };

  const mint = (claims?: Record<string, unknown>, header?: Record<string, unknown>, mintOptions: MintOptions = {}): string => {
    const now = Math.floor(Date.now() / 1000);
    const payload = withoutUndefined(
      {
        iss: issuer,
        aud: audience,
        sub: defaultSubject,
        unique_name: 'test-client@cyberark.cloud.0000',
        app_id: appId,
        iat: now,
        exp: now + lifetime,
      },
      claims,
    );
    const protectedHeader = withoutUndefined({ alg: 'RS256', kid: current.kid, typ: 'JWT' }, header);
    const input = `${b64url(JSON.stringify(protectedHeader))}.${b64url(JSON.stringify(payload))}`;
    const alg = String(protectedHeader.alg ?? 'none');
    return `${input}.${b64url(signature(alg, input, mintOptions.key ?? current.privateKey))}`;
  };

  const jwks = () => ({ keys: [...published.values()].map((k) => ({ ...k.jwk })) });

  /** Applies a fault; true when the request was answered (or dropped) by it. */
  const faulty = (endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, answer: () => void): boolean => {
    const active = faults.get(endpoint);
    if (!active) return false;
    switch (active.fault) {
      case 'down':
        req.socket.destroy();
        return true;
      case 'error':
        sendJson(res, 500, { error: 'server_error' });
        return true;
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Service temporarily unavailable</body></html>');
        return true;
      case 'empty':
        sendJson(res, 200, endpoint === 'jwks' ? { keys: [] } : {});
        return true;
      case 'huge': {
        const junk = { kty: 'RSA', kid: 'x'.repeat(64), n: 'A'.repeat(4096), e: 'AQAB' };
        sendJson(res, 200, { keys: Array.from({ length: 1000 }, () => junk) });
        return true;
      }
      case 'slow': {
        const timer = setTimeout(() => {
          timers.delete(timer);
          if (!res.destroyed) answer();
        }, active.delayMs);
        timers.add(timer);
        return true;
      }
      case 'hang':
        return true;
    }
  };

  const tokenEndpoint = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const fail = (status: number, error: string, description: string, headers: Record<string, string> = {}) =>
      sendJson(res, status, { error, error_description: description }, { 'Cache-Control': 'no-store', Pragma: 'no-cache', ...headers });
    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
      return;
    }
    const type = (req.headers['content-type'] ?? '').toLowerCase();
    const text = await readBody(req, 64 * 1024);
    if (text === undefined) return fail(400, 'invalid_request', 'request body too large');
    if (!type.startsWith('application/x-www-form-urlencoded')) {
      return fail(400, 'invalid_request', 'body must be application/x-www-form-urlencoded');
    }
    const form = new URLSearchParams(text);
    for (const name of ['grant_type', 'scope', 'client_id', 'client_secret']) {
      if (form.getAll(name).length > 1) return fail(400, 'invalid_request', `${name} repeated`);
    }
    const basic = basicCredentials(req.headers.authorization);
    if (basic === null) return fail(400, 'invalid_request', 'malformed Basic credentials');
    const bodyId = form.get('client_id');
    const bodySecret = form.get('client_secret');
    if (basic && bodySecret !== null) return fail(400, 'invalid_request', 'use one client authentication method');
    const id = basic?.id ?? bodyId;
    const secret = basic?.secret ?? bodySecret;
    const challenge: Record<string, string> = basic ? { 'WWW-Authenticate': `Basic realm="${appId}"` } : {};
    if (!id || secret === null || secret === undefined) return fail(401, 'invalid_client', 'client authentication required', challenge);
    const client = clients.get(id);
    if (!client || !safeEqual(client.clientSecret, secret)) return fail(401, 'invalid_client', 'client authentication failed', challenge);
    const grant = form.get('grant_type');
    if (!grant) return fail(400, 'invalid_request', 'grant_type is required');
    if (grant !== 'client_credentials') return fail(400, 'unsupported_grant_type', 'only client_credentials is supported');
    const allowed = client.scopes ?? [];
    const requestedText = form.get('scope');
    const requested = requestedText === null ? [...allowed] : requestedText.split(' ').filter(Boolean);
    const refused = requested.filter((s) => !allowed.includes(s));
    if (refused.length > 0) return fail(400, 'invalid_scope', 'requested scope is not allowed for this client');
    const scope = [...new Set(requested)].join(' ');
    const token = mint({
      ...client.claims,
      sub: client.subject,
      unique_name: client.clientId,
      ...(scope ? { scope } : {}),
    });
    sendJson(
      res,
      200,
      { access_token: token, token_type: 'Bearer', expires_in: lifetime, ...(scope ? { scope } : {}) },
      { 'Cache-Control': 'no-store', Pragma: 'no-cache' },
    );
  };

  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0]!.toLowerCase();
    if (path === paths.jwks && (req.method === 'GET' || req.method === 'HEAD')) {
      counters.jwks++;
      const answer = () => sendJson(res, 200, jwks(), jwksCacheControl ? { 'Cache-Control': jwksCacheControl } : {});
      if (!faulty('jwks', req, res, answer)) answer();
    } else if (path === paths.discovery && req.method === 'GET') {
      counters.discovery++;
      const answer = () =>
        sendJson(res, 200, {
          issuer,
          jwks_uri: jwksUri,
          token_endpoint: tokenUrl,
          grant_types_supported: ['client_credentials'],
          token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
          id_token_signing_alg_values_supported: ['RS256'],
        });
      if (!faulty('discovery', req, res, answer)) answer();
    } else if (path === paths.token) {
      counters.token++;
      const answer = () => {
        tokenEndpoint(req, res).catch(() => {
          if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
        });
      };
      if (!faulty('token', req, res, answer)) answer();
    } else {
      sendJson(res, 404, { error: 'not_found' });
    }
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  url = `http://127.0.0.1:${port}`;
  issuer = options.issuer ?? `${url}/${appId}/`;
  jwksUri = `${url}/OAuth2/Keys/${appId}`;
  tokenUrl = `${url}/oauth2/token/${appId}`;

  return {
    url,
    appId,
    issuer,
    audience,
    tokenUrl,
    jwksUri,
    discoveryUrl: `${url}/${appId}/.well-known/openid-configuration`,
    options: Object.freeze({ tenantUrl: url, appId, audience, issuer, jwksUri }),
    get kid() {
      return current.kid;
    },
    get kids() {
      return [...published.keys()];
    },
    get jwksFetches() {
      return counters.jwks;
    },
    get tokenRequests() {
      return counters.token;
    },
    get discoveryFetches() {
      return counters.discovery;
    },
    mint,
    rotateKey({ keepPrevious = true } = {}) {
      const previous = current;
      current = newRsaKey();
      published.set(current.kid, current);
      if (!keepPrevious) published.delete(previous.kid);
      return current.kid;
    },
    removeKey(kid) {
      published.delete(kid);
    },
    jwks,
    setFault(endpoint, fault, { delayMs = 10_000 } = {}) {
      if (fault === null) faults.delete(endpoint);
      else faults.set(endpoint, { fault, delayMs });
    },
    setJwksCacheControl(value) {
      jwksCacheControl = value;
    },
    addClient,
    resetCounters() {
      counters.jwks = counters.token = counters.discovery = 0;
    },
    async close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A random client secret, for tests that register their own clients. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}
