/**
 * A local stand-in for a CyberArk Identity tenant: a real HTTP server on 127.0.0.1 serving the
 * token, JWKS and discovery endpoints (OpenID and RFC 8414, for MCP clients), minting
 * CyberArk-shaped tokens, with faults on demand.
 */
import type { JsonWebKey } from 'node:crypto';
import { Faults, type Endpoint, type Fault } from './faults.js';
import { KeyRing } from './keys.js';
import { authorizationServerMetadata, openIdConfiguration } from './metadata.js';
import { IssuerServer, sendJson } from './server.js';
import { minter, type MintOptions } from './signing.js';
import { Clients, tokenEndpoint, type ResourceIndicators, type TestClient } from './token-endpoint.js';

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
  /**
   * What the token endpoint does with RFC 8707's `resource` parameter, which MCP clients send.
   * `'audience'` (default): every `resource` must be an absolute URI without a fragment and equal,
   * as written, to one of `audience`; the token's `aud` is then the requested resource (a list
   * when several are asked for) instead of the whole `audience`. Anything else is refused with
   * 400 `invalid_target`. `'ignore'`: the parameter is ignored and `aud` stays `audience`, as a
   * server without RFC 8707 support does. What CyberArk itself does is not documented.
   */
  resourceIndicators?: ResourceIndicators;
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
  /** OpenID Connect Discovery document, `${url}/${appId}/.well-known/openid-configuration`. */
  readonly discoveryUrl: string;
  /** RFC 8414 metadata, `${url}/.well-known/oauth-authorization-server/${appId}`: where MCP clients look first. */
  readonly authorizationServerMetadataUrl: string;
  /** `${url}/OAuth2/Authorize/${appId}`, named by the metadata; answers 400 `unsupported_response_type`. */
  readonly authorizationUrl: string;
  /** Options for `createBearerAuth()` / `requireToken()` that trust this issuer. */
  readonly options: BearerOptionsForIssuer;
  /** Key id of the current signing key. */
  readonly kid: string;
  /** Key ids published in the JWKS. */
  readonly kids: readonly string[];
  /** Requests received by each endpoint (faulty answers included). */
  readonly jwksFetches: number;
  readonly tokenRequests: number;
  /** Both metadata documents together. */
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

/** Starts a local issuer. Close it with `await issuer.close()`. */
export async function createTestIssuer(options: TestIssuerOptions = {}): Promise<TestIssuer> {
  const appId = options.appId ?? 'test-app';
  if (!/^[A-Za-z0-9._~-]+$/.test(appId)) {
    throw new TypeError('createTestIssuer: appId must be URL-safe (letters, digits, . _ ~ -)');
  }
  const resourceIndicators = options.resourceIndicators ?? 'audience';
  if (resourceIndicators !== 'audience' && resourceIndicators !== 'ignore') {
    throw new TypeError("createTestIssuer: resourceIndicators must be 'audience' or 'ignore'");
  }
  const audience = options.audience ?? appId;
  const lifetime = options.tokenLifetime ?? 3600;
  const clients = new Clients();
  for (const client of options.clients ?? []) clients.add(client);
  const keys = new KeyRing();
  const faults = new Faults();

  const server = await IssuerServer.listen(options.port ?? 0, faults);
  const { url } = server;
  const issuer = options.issuer ?? `${url}/${appId}/`;
  const jwksUri = `${url}/OAuth2/Keys/${appId}`;
  const tokenUrl = `${url}/oauth2/token/${appId}`;
  const discoveryUrl = `${url}/${appId}/.well-known/openid-configuration`;
  // RFC 8414 §3.1: the well-known segment goes before the issuer's path, its trailing slash dropped.
  const authorizationServerMetadataUrl = `${url}/.well-known/oauth-authorization-server/${appId}`;
  const authorizationUrl = `${url}/OAuth2/Authorize/${appId}`;
  const mint = minter({ issuer, audience, appId, lifetime }, keys);
  const metadata = { issuer, authorizationUrl, tokenUrl, jwksUri, scopes: () => clients.scopes() };

  let jwksCacheControl: string | undefined;
  server.route('jwks', jwksUri, ['GET', 'HEAD'], (_req, res) =>
    sendJson(res, 200, keys.jwks(), jwksCacheControl ? { 'Cache-Control': jwksCacheControl } : {}),
  );
  server.route('discovery', discoveryUrl, ['GET'], (_req, res) => sendJson(res, 200, openIdConfiguration(metadata)));
  server.route('discovery', authorizationServerMetadataUrl, ['GET'], (_req, res) =>
    sendJson(res, 200, authorizationServerMetadata(metadata)),
  );
  server.route(null, authorizationUrl, undefined, (_req, res) =>
    sendJson(res, 400, {
      error: 'unsupported_response_type',
      error_description: 'the test issuer grants tokens by client credentials only',
    }),
  );
  const audiences = typeof audience === 'string' ? [audience] : [...audience];
  server.route('token', tokenUrl, undefined, tokenEndpoint({ appId, lifetime, clients, mint, resourceIndicators, audiences }));

  return {
    url,
    appId,
    issuer,
    audience,
    tokenUrl,
    jwksUri,
    discoveryUrl,
    authorizationServerMetadataUrl,
    authorizationUrl,
    options: Object.freeze({ tenantUrl: url, appId, audience, issuer, jwksUri }),
    get kid() {
      return keys.current.kid;
    },
    get kids() {
      return keys.kids;
    },
    get jwksFetches() {
      return server.requests('jwks');
    },
    get tokenRequests() {
      return server.requests('token');
    },
    get discoveryFetches() {
      return server.requests('discovery');
    },
    mint,
    rotateKey: ({ keepPrevious = true } = {}) => keys.rotate(keepPrevious),
    removeKey: (kid) => keys.remove(kid),
    jwks: () => keys.jwks(),
    setFault: (endpoint, fault, { delayMs = 10_000 } = {}) => faults.set(endpoint, fault, delayMs),
    setJwksCacheControl(value) {
      jwksCacheControl = value;
    },
    addClient: (client) => clients.add(client),
    resetCounters: () => server.resetRequests(),
    close() {
      faults.cancelLateAnswers();
      return server.close();
    },
  };
}
