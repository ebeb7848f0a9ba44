/**
 * The token endpoint: confidential clients authenticate (form body or HTTP Basic) for a
 * client_credentials token with the scopes they may have, for the RFC 8707 resources they name,
 * or get an RFC 6749 §5.2 error.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson, type Answer } from './server.js';
import type { Mint } from './signing.js';

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

type Client = TestClient & { readonly subject: string };

/** A random client secret, for tests that register their own clients. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

export class Clients {
  readonly #byId = new Map<string, Client>();

  add(client: TestClient): void {
    if (!client.clientId || !client.clientSecret) {
      throw new TypeError('createTestIssuer: a client needs clientId and clientSecret');
    }
    this.#byId.set(client.clientId, { ...client, subject: client.subject ?? randomUUID() });
  }

  get(clientId: string): Client | undefined {
    return this.#byId.get(clientId);
  }

  /** Every scope some client may request, in registration order. */
  scopes(): string[] {
    return [...new Set([...this.#byId.values()].flatMap((c) => c.scopes ?? []))];
  }
}

/** What the endpoint does with RFC 8707's `resource`; see `TestIssuerOptions.resourceIndicators`. */
export type ResourceIndicators = 'audience' | 'ignore';

export interface TokenEndpointSetup {
  /** Realm of the Basic challenge. */
  readonly appId: string;
  /** `expires_in` of the answers; the tokens' lifetime. */
  readonly lifetime: number;
  readonly clients: Clients;
  readonly mint: Mint;
  readonly resourceIndicators: ResourceIndicators;
  /** The audiences a `resource` may name. */
  readonly audiences: readonly string[];
}

/** An RFC 6749 §5.2 error answer. */
class Refusal {
  constructor(
    readonly status: number,
    readonly error: string,
    readonly description: string,
    readonly headers: Record<string, string> = {},
  ) {}
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' };
const BODY_LIMIT = 64 * 1024;

export function tokenEndpoint(setup: TokenEndpointSetup): Answer {
  return (req, res) => {
    answer(setup, req, res).catch(() => {
      if (!res.headersSent) sendJson(res, 500, { error: 'server_error' });
    });
  };
}

async function answer(setup: TokenEndpointSetup, req: IncomingMessage, res: ServerResponse): Promise<void> {
  if (req.method !== 'POST') {
    sendJson(res, 405, { error: 'invalid_request', error_description: 'use POST' }, { Allow: 'POST' });
    return;
  }
  const granted = await grant(setup, req);
  if (granted instanceof Refusal) {
    const { status, error, description, headers } = granted;
    sendJson(res, status, { error, error_description: description }, { ...NO_STORE, ...headers });
    return;
  }
  const { scope, audience } = granted;
  const token = setup.mint({
    ...granted.client.claims,
    sub: granted.client.subject,
    unique_name: granted.client.clientId,
    ...(scope ? { scope } : {}),
    ...(audience ? { aud: audience } : {}),
  });
  sendJson(
    res,
    200,
    { access_token: token, token_type: 'Bearer', expires_in: setup.lifetime, ...(scope ? { scope } : {}) },
    NO_STORE,
  );
}

interface Grant {
  readonly client: Client;
  readonly scope: string;
  /** The `aud` the requested resources ask for; undefined: the issuer's audience. */
  readonly audience: string | string[] | undefined;
}

/** The client, the scope it is granted and the resources it may address, or why not. */
async function grant(setup: TokenEndpointSetup, req: IncomingMessage): Promise<Grant | Refusal> {
  const type = (req.headers['content-type'] ?? '').toLowerCase();
  const text = await readBody(req, BODY_LIMIT);
  if (text === undefined) return invalidRequest('request body too large');
  if (!type.startsWith('application/x-www-form-urlencoded')) {
    return invalidRequest('body must be application/x-www-form-urlencoded');
  }
  const form = new URLSearchParams(text);
  for (const name of ['grant_type', 'scope', 'client_id', 'client_secret']) {
    if (form.getAll(name).length > 1) return invalidRequest(`${name} repeated`);
  }
  const client = authenticate(setup, req, form);
  if (client instanceof Refusal) return client;
  const grantType = form.get('grant_type');
  if (!grantType) return invalidRequest('grant_type is required');
  if (grantType !== 'client_credentials') {
    return new Refusal(400, 'unsupported_grant_type', 'only client_credentials is supported');
  }
  const allowed = client.scopes ?? [];
  const requestedText = form.get('scope');
  const requested = requestedText === null ? [...allowed] : requestedText.split(' ').filter(Boolean);
  if (requested.some((s) => !allowed.includes(s))) {
    return new Refusal(400, 'invalid_scope', 'requested scope is not allowed for this client');
  }
  const audience = setup.resourceIndicators === 'ignore' ? undefined : targetAudience(setup, form.getAll('resource'));
  if (audience instanceof Refusal) return audience;
  return { client, scope: [...new Set(requested)].join(' '), audience };
}

/**
 * RFC 8707 §2: each `resource` is an absolute URI without a fragment, and the token is for it.
 * Here a resource must be one of the issuer's audiences, as written: an authorization server
 * only mints tokens for resources it knows.
 */
function targetAudience(setup: TokenEndpointSetup, resources: string[]): string | string[] | undefined | Refusal {
  if (resources.length === 0) return undefined;
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) {
      return new Refusal(400, 'invalid_target', 'resource must be an absolute URI without a fragment');
    }
    if (!setup.audiences.includes(resource)) return new Refusal(400, 'invalid_target', 'resource is not known to this issuer');
  }
  const unique = [...new Set(resources)];
  return unique.length === 1 ? unique[0] : unique;
}

/** RFC 6749 §2.3.1: the client's id and secret, in the form body or as HTTP Basic, not both. */
function authenticate(setup: TokenEndpointSetup, req: IncomingMessage, form: URLSearchParams): Client | Refusal {
  const basic = basicCredentials(req.headers.authorization);
  if (basic === null) return invalidRequest('malformed Basic credentials');
  const bodySecret = form.get('client_secret');
  if (basic && bodySecret !== null) return invalidRequest('use one client authentication method');
  const id = basic?.id ?? form.get('client_id');
  const secret = basic?.secret ?? bodySecret;
  const challenge = basic ? { 'WWW-Authenticate': `Basic realm="${setup.appId}"` } : {};
  if (!id || secret === null) return new Refusal(401, 'invalid_client', 'client authentication required', challenge);
  const client = setup.clients.get(id);
  if (!client || !safeEqual(client.clientSecret, secret)) {
    return new Refusal(401, 'invalid_client', 'client authentication failed', challenge);
  }
  return client;
}

const invalidRequest = (description: string): Refusal => new Refusal(400, 'invalid_request', description);

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Basic credentials are form-urlencoded before base64; undefined when absent, null when malformed. */
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

/** The body as UTF-8, or undefined past `limit` bytes or on a connection error. */
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
