/**
 * A local stand-in for a CyberArk Identity tenant: a real HTTP server on 127.0.0.1 serving the
 * token, JWKS, discovery (OpenID and RFC 8414, for MCP clients), introspection and revocation
 * endpoints, minting CyberArk-shaped JWTs or opaque tokens, with faults on demand.
 */
import type { JsonWebKey } from 'node:crypto';
import { Clients, type TestClient } from './clients.js';
import { Faults, type Endpoint, type Fault } from './faults.js';
import { introspectionEndpoint, revocationEndpoint } from './introspection.js';
import { KeyRing } from './keys.js';
import { Ledger, type MintOpaqueOptions } from './ledger.js';
import { authorizationServerMetadata, openIdConfiguration } from './metadata.js';
import { IssuerServer, sendJson } from './server.js';
import { minter, tokenClaims, type MintOptions } from './signing.js';
import { tokenEndpoint, type ResourceIndicators } from './token-endpoint.js';

/** What the token endpoint issues: compact JWS (`'jwt'`), or opaque strings only introspection explains. */
export type TokenType = 'jwt' | 'opaque';

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
  /**
   * What the token endpoint issues: `'jwt'` (default), CyberArk's `JwtRS256`; or `'opaque'`, as an
   * app set to opaque tokens does: random strings (see `mintOpaque()`) that only introspection explains.
   */
  tokenType?: TokenType;
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
  /** `${url}/OAuth2/Introspect/${appId}`: RFC 7662 introspection, HTTP Basic client authentication. */
  readonly introspectionUrl: string;
  /** `${url}/oauth2/revoke/${appId}`: RFC 7009 revocation, HTTP Basic client authentication. */
  readonly revocationUrl: string;
  /** What the token endpoint issues. */
  readonly tokenType: TokenType;
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
  readonly introspections: number;
  readonly revocations: number;
  /** Introspection requests received and not yet answered, e.g. held by a `slow` or `hang` fault. */
  readonly introspectionsInFlight: number;
  /** The most introspection requests in flight at once since the start or `resetCounters()`. */
  readonly maxIntrospectionsInFlight: number;
  /**
   * Signs a token. Claims default to a CyberArk client-credentials token (iss, aud, sub,
   * unique_name, app_id, iat, exp); the header to `{ alg: 'RS256', kid, typ: 'JWT' }`.
   * A value of `undefined` removes a claim or header parameter. `alg: 'none'` gives an unsigned
   * token; HS*, ES*, PS* and EdDSA work with a fitting `options.key`.
   */
  mint(claims?: Record<string, unknown>, header?: Record<string, unknown>, options?: MintOptions): string;
  /**
   * An opaque token standing for these claims (defaulted as by `mint()`), which introspection
   * then reports: 43 random base64url characters, or `options.token`. CyberArk's opaque format is
   * not documented: a verifier must not rely on this one.
   */
  mintOpaque(claims?: Record<string, unknown>, options?: MintOpaqueOptions): string;
  /** Revokes a token this issuer issued (opaque or JWT): it introspects inactive from now on. */
  revoke(token: string): void;
  /** The client gets `invalid_client` at every endpoint, and its tokens introspect inactive, until enabled. */
  disableClient(clientId: string): void;
  enableClient(clientId: string): void;
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
  const tokenType = options.tokenType ?? 'jwt';
  if (tokenType !== 'jwt' && tokenType !== 'opaque') {
    throw new TypeError("createTestIssuer: tokenType must be 'jwt' or 'opaque'");
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
  const ledger = new Ledger(keys, clients);

  const server = await IssuerServer.listen(options.port ?? 0, faults);
  const { url } = server;
  const issuer = options.issuer ?? `${url}/${appId}/`;
  const jwksUri = `${url}/OAuth2/Keys/${appId}`;
  const tokenUrl = `${url}/oauth2/token/${appId}`;
  const discoveryUrl = `${url}/${appId}/.well-known/openid-configuration`;
  // RFC 8414 §3.1: the well-known segment goes before the issuer's path, its trailing slash dropped.
  const authorizationServerMetadataUrl = `${url}/.well-known/oauth-authorization-server/${appId}`;
  const authorizationUrl = `${url}/OAuth2/Authorize/${appId}`;
  const introspectionUrl = `${url}/OAuth2/Introspect/${appId}`;
  const revocationUrl = `${url}/oauth2/revoke/${appId}`;
  const claimsOf = tokenClaims({ issuer, audience, appId, lifetime });
  const mint = minter(claimsOf, keys);
  const mintOpaque = (claims?: Record<string, unknown>, opaque?: MintOpaqueOptions) => ledger.register(claimsOf(claims), opaque);
  const metadata = {
    issuer,
    authorizationUrl,
    tokenUrl,
    jwksUri,
    introspectionUrl,
    revocationUrl,
    scopes: () => clients.scopes(),
  };

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
  const issue = tokenType === 'opaque' ? (claims: Record<string, unknown>) => mintOpaque(claims) : mint;
  server.route('token', tokenUrl, undefined, tokenEndpoint({ appId, lifetime, clients, issue, resourceIndicators, audiences }));
  const introspection = { appId, clients, ledger };
  server.route(
    'introspect',
    introspectionUrl,
    undefined,
    introspectionEndpoint(introspection),
    introspectionEndpoint(introspection, 4 * 1024 * 1024),
  );
  server.route('revoke', revocationUrl, undefined, revocationEndpoint(introspection));

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
    introspectionUrl,
    revocationUrl,
    tokenType,
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
    get introspections() {
      return server.requests('introspect');
    },
    get revocations() {
      return server.requests('revoke');
    },
    get introspectionsInFlight() {
      return server.inFlight('introspect');
    },
    get maxIntrospectionsInFlight() {
      return server.peak('introspect');
    },
    mint,
    mintOpaque,
    revoke: (token) => ledger.revoke(token),
    disableClient: (clientId) => clients.setDisabled(clientId, true),
    enableClient: (clientId) => clients.setDisabled(clientId, false),
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
