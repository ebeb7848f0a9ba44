/**
 * The public entry points: `createBearerAuth()` assembles config → key sources → verifier →
 * request pipeline → middleware; `requireToken()` is the one-liner that reads the environment.
 */
import { LRUCache } from 'lru-cache';
import { BearerAuthenticator, type AccessTokenVerifier } from './bearer/authenticate.js';
import type { RequestLike } from './bearer/extract.js';
import type { Algorithm, BearerAuthOptions, ResolvedConfig } from './config/options.js';
import { resolveConfig, verificationFingerprint } from './config/resolve.js';
import { BearerError, ConfigError, type ChallengeParams } from './errors.js';
import { metadataDocument, metadataPaths, resourceMetadataUrl, type ProtectedResourceOptions } from './bearer/resource.js';
import { explainToken, type Explanation } from './bearer/explain.js';
import { createMiddleware, type BearerMiddleware, type BearerRequest } from './express/middleware.js';
import { protectedResourceMiddleware } from './express/protected-resource.js';
import { DiscoveredKeySet } from './jwks/discovery.js';
import { remoteKeySet, type KeySourceStatus } from './jwks/remote.js';
import { TokenVerifier, type IssuerRule } from './jwt/verify.js';
import { createDefaultLogger, isRequestLogger, type BearerLogger } from './log.js';
import { envOf, type Env } from './config/checks.js';
import { compileRequirement, type CompiledRequirement, type ScopeRequirement } from './scopes.js';
import { introspectorFor } from './introspection/shared.js';
import { checksRevocation, routeVerifier, type RouteOptions } from './introspection/verifiers.js';
import type { AuthInfo, Claims } from './types.js';

export interface BearerAuth<C extends object = Claims> {
  /** The validated, frozen configuration. */
  readonly config: ResolvedConfig;
  /**
   * Middleware that requires a valid token and, if given, scopes: `'a'`, `['a', 'b']` (all of),
   * `{ anyOf: ['a', 'b'] }`. Attaches `req.auth`. Takes exactly one requirement; `route` may ask
   * for `{ revocation: 'introspect' }` (JWTs found active by introspection too).
   */
  requireToken(required?: ScopeRequirement, route?: RouteOptions): BearerMiddleware;
  /**
   * Verifies a token string, framework-free. Throws InvalidTokenError, KeysUnavailableError or
   * IntrospectionUnavailableError.
   */
  verify(token: string, route?: RouteOptions): Promise<AuthInfo<C>>;
  /**
   * Extracts, verifies and checks scopes on a Node request (an upgrade request of a websocket,
   * another framework's raw request). Throws a BearerError carrying status, headers and body.
   */
  authenticate(req: RequestLike, required?: ScopeRequirement, route?: RouteOptions): Promise<AuthInfo<C>>;
  /** Fetches the signing keys now. Throws KeysFetchError (naming the URL) if it cannot. */
  ready(): Promise<void>;
  /** Key sets held per issuer, their age and fetch failures: for a readiness probe. */
  status(): Record<string, KeySourceStatus>;
  /** `req.auth` as set by this instance's middleware, typed with your claims. Throws if absent. */
  authOf(req: { auth?: unknown }): AuthInfo<C>;
  /**
   * Middleware serving this API's protected-resource metadata (RFC 9728), which MCP clients read
   * after a 401, at `/.well-known/oauth-protected-resource` followed by the path of `resource`,
   * and at the root form: mount it on the app itself. Needs the `resource` option (else a ConfigError).
   *
   * ```ts
   * app.use(auth.protectedResource({ scopesSupported: ['orders.read', 'orders.write'] }));
   * ```
   */
  protectedResource(options?: ProtectedResourceOptions): BearerMiddleware;
  /** The URL of that metadata when `resource` is set, as every challenge names it (`resource_metadata`). */
  readonly resourceMetadataUrl: string | undefined;
  /**
   * Why a token would be accepted or refused, for a log line or a support tool. Runs exactly the
   * checks of a request (`Authorization: Bearer <token>`, then `required` scopes) and lists each
   * check (passed, failed or not reached) with what the token says, decoded but unverified, what
   * the configuration expects and a hint. Never includes the token. Resolves for any string;
   * rejects only for a token that is not a string (TypeError) or an invalid `required` (ConfigError).
   *
   * ```ts
   * const why = await auth.explain(token, 'orders.read');
   * if (!why.valid) logger.info({ refusal: why.refusal, failed: why.checks.find((c) => c.ok === false) }, 'token refused');
   * ```
   */
  explain(token: string, required?: ScopeRequirement, route?: RouteOptions): Promise<Explanation>;
}

/**
 * Verifiers are shared between instances whose verification settings and logger are equal, so
 * that every `requireToken()` with the same options uses one key cache and one token cache.
 */
const verifiers = new LRUCache<string, TokenVerifier>({ max: 64 });
const loggerIds = new WeakMap<BearerLogger, number>();
let nextLoggerId = 0;

/**
 * The verifier for a config. A request's logger (pino-http's `req.log`, given by a guard built per
 * request) is kept out of it: the verifier and its key sets outlive the request and log for every
 * later one, so they log through the default logger instead, and the guard still hits the caches.
 */
function verifierFor(config: ResolvedConfig, env: Env): TokenVerifier {
  let logger = config.logger;
  if (isRequestLogger(logger)) {
    logger = createDefaultLogger(env.LOG_LEVEL);
    warnRequestLogger(logger);
  }
  let loggerId = loggerIds.get(logger);
  if (loggerId === undefined) loggerIds.set(logger, (loggerId = nextLoggerId++));
  const id = `${loggerId}:${verificationFingerprint(config)}`;
  let verifier = verifiers.get(id);
  if (!verifier) {
    const { algorithms, clockTolerance, maxTokenAge, strict, scopeClaims, maxTokenLength, tokenCache } = config;
    const issuers = issuerRules(config, logger);
    verifier = new TokenVerifier({
      issuers,
      algorithms,
      clockTolerance,
      maxTokenAge,
      strict,
      scopeClaims,
      maxTokenLength,
      tokenCache,
      logger,
    });
    verifiers.set(id, verifier);
  }
  return verifier;
}

/**
 * Every configured issuer with its audiences, settings and rules, and its keys: from its JWKS URL
 * (one key set per URL, shared process-wide and between issuers naming it), else from the
 * issuer's own discovery document.
 */
function issuerRules(config: ResolvedConfig, logger: BearerLogger): IssuerRule[] {
  const { keyCache, allowInsecureHttp } = config;
  // A key set shared by several issuers keeps the keys fitting any of their algorithms; each
  // issuer's own list is enforced on its tokens before a key is looked up.
  const algorithmsAt = new Map<string, Algorithm[]>();
  for (const { jwksUri, algorithms } of config.perIssuer) {
    if (jwksUri === undefined) continue;
    const union = algorithmsAt.get(jwksUri) ?? [];
    for (const alg of algorithms) if (!union.includes(alg)) union.push(alg);
    algorithmsAt.set(jwksUri, union);
  }
  return config.perIssuer.map(
    ({ issuer, audiences, audienceComparison, jwksUri, algorithms, clockTolerance, maxTokenAge, scopeClaims, claims }) => ({
      issuer,
      audiences,
      audienceComparison,
      keys:
        jwksUri !== undefined
          ? remoteKeySet(jwksUri, { algorithms: algorithmsAt.get(jwksUri)!, keyCache, allowInsecureHttp }, logger)
          : new DiscoveredKeySet(issuer, { algorithms, keyCache, allowInsecureHttp }, logger),
      algorithms,
      clockTolerance,
      maxTokenAge,
      scopeClaims,
      claims,
    }),
  );
}

const warnedLoggers = new WeakSet<BearerLogger>();

function warnRequestLogger(logger: BearerLogger): void {
  if (warnedLoggers.has(logger)) return;
  warnedLoggers.add(logger);
  logger.warn(
    {},
    "the logger option is a request's logger (its bindings hold req, reqId or credentials): key fetches are logged through this default logger; build requireToken() once, at start-up, with the application logger (req.log is used for refusals by itself)",
  );
}

function checkOneRequirement(count: number, where: string): void {
  if (count > 1) {
    throw new ConfigError(
      'scopes',
      `${where} takes one scope requirement, got ${count} arguments: write ${where}(['a', 'b']) to require all of them, or ${where}({ anyOf: ['a', 'b'] }) for any of them`,
    );
  }
}

/** Builds a bearer-token guard from options (and `CYBERARK_*` env vars for what is not given). */
export function createBearerAuth<C extends object = Claims>(options?: BearerAuthOptions): BearerAuth<C> {
  const config = resolveConfig(options);
  const verifier = verifierFor(config, envOf(options?.env));
  const introspector = introspectorFor(config, verifier.config.logger);
  // One pipeline for routes without `revocation`, one for routes with it.
  const pipelines = new Map<boolean, { checked: AccessTokenVerifier; authenticator: BearerAuthenticator }>();
  const pipelineFor = (route: unknown) => {
    const revocation = checksRevocation(route);
    if (revocation && introspector === undefined) {
      throw new ConfigError(
        'introspection.clientId',
        "is required for routes with { revocation: 'introspect' }: the issuer's introspection endpoint says whether a token was revoked",
        'CYBERARK_INTROSPECTION_CLIENT_ID',
      );
    }
    let pipeline = pipelines.get(revocation);
    if (!pipeline) {
      const checked = routeVerifier(config.tokens, verifier, introspector, revocation);
      pipeline = { checked, authenticator: new BearerAuthenticator(checked, config) };
      pipelines.set(revocation, pipeline);
    }
    return pipeline;
  };
  const middleware = {
    realm: config.realm,
    onError: config.onError,
    logger: config.logger,
    fallbackLogger: verifier.config.logger,
  };
  const metadataUrl = config.resource === undefined ? undefined : resourceMetadataUrl(config.resource);
  // Once a resource is declared, challenges say where its metadata is and what the route needs.
  const challengeFor = (requirement: CompiledRequirement): ChallengeParams | undefined =>
    metadataUrl === undefined
      ? undefined
      : Object.freeze({ resourceMetadata: metadataUrl, scope: requirement.challenge || undefined });
  const bearerAuth: BearerAuth<C> = Object.freeze({
    config,
    resourceMetadataUrl: metadataUrl,
    requireToken(required?: ScopeRequirement, route?: RouteOptions, ...extra: unknown[]): BearerMiddleware {
      // A second scope (a string or a list) is the mistake this refuses: in other libraries it is silently ignored.
      if (typeof route === 'string' || Array.isArray(route) || extra.length > 0)
        checkOneRequirement(2 + extra.length, 'requireToken');
      const requirement = compileRequirement(required);
      return createMiddleware(pipelineFor(route).authenticator, requirement, {
        ...middleware,
        challenge: challengeFor(requirement),
      });
    },
    async verify(token: string, route?: RouteOptions): Promise<AuthInfo<C>> {
      if (typeof token !== 'string') throw new TypeError('verify() takes the token string');
      if (route === undefined && config.tokens === 'jwt') return verifier.verify<C>(token);
      const { checked } = pipelineFor(route);
      return (checked.cached(token) ?? (await checked.verifyUncached(token))) as AuthInfo<C>;
    },
    async authenticate(req: RequestLike, required?: ScopeRequirement, route?: RouteOptions): Promise<AuthInfo<C>> {
      const requirement = compileRequirement(required);
      try {
        return (await pipelineFor(route).authenticator.authenticate(req, requirement)) as AuthInfo<C>;
      } catch (error) {
        throw error instanceof BearerError ? error.withRealm(config.realm, challengeFor(requirement)) : error;
      }
    },
    ready: () => verifier.ready(),
    status: () => verifier.status(),
    authOf(req: { auth?: unknown }): AuthInfo<C> {
      const auth = (req as BearerRequest).auth;
      if (!auth) throw new Error('cyberark-bearer: req.auth is not set: is this route behind requireToken()?');
      return auth as unknown as AuthInfo<C>;
    },
    explain: (token: string, required?: ScopeRequirement, route?: RouteOptions) =>
      explainToken(bearerAuth, token, required, route, introspector),
    protectedResource(options?: ProtectedResourceOptions): BearerMiddleware {
      return protectedResourceMiddleware(metadataDocument(config, options), metadataPaths(config.resource!));
    },
  });
  return bearerAuth;
}

/**
 * Middleware requiring a valid token and the given scopes, configured from `options` and the
 * `CYBERARK_*` environment variables. Calls with equal options share one key cache.
 *
 * ```ts
 * app.get('/orders', requireToken('orders.read'), handler);
 * app.post('/orders', requireToken(['orders.write', 'orders.read']), handler); // all of
 * app.get('/reports', requireToken({ anyOf: ['reports.read', 'admin'] }), handler);
 * ```
 */
export function requireToken(required?: ScopeRequirement, options?: BearerAuthOptions): BearerMiddleware {
  if (arguments.length > 2 || typeof options === 'string' || Array.isArray(options)) {
    checkOneRequirement(Math.max(arguments.length, 2), 'requireToken');
  }
  return createBearerAuth(options).requireToken(required);
}
