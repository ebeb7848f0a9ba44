/**
 * The contenders: one Express 5 route, GET /orders requiring scope `orders.read`, guarded by
 * each library as its own documentation sets it up. `cfg` comes from the bench's local issuer.
 */
import { createRequire } from 'node:module';
import { pino } from 'pino';

const require = createRequire(import.meta.url);
const SCOPE = 'orders.read';
const ok = (_req, res) => res.json({ ok: true });
const bearer = (req) => /^Bearer ([^ ]+)$/i.exec(req.headers.authorization ?? '')?.[1];
const hasScope = (claims) => typeof claims?.scope === 'string' && claims.scope.split(' ').includes(SCOPE);
const refuse = (res, status) => res.status(status).json({ error: status === 403 ? 'insufficient_scope' : 'invalid_token' });

/**
 * The hand-written guard a peer's docs leave to the user: bearer token in, `verify` it, check the
 * scope. `claimsOf` picks the claims from what `verify` resolves to.
 */
const guard =
  (verify, claimsOf = (result) => result) =>
  async (req, res, next) => {
    const token = bearer(req);
    if (!token) return refuse(res, 401);
    let claims;
    try {
      claims = claimsOf(await verify(token));
    } catch {
      return refuse(res, 401);
    }
    if (!hasScope(claims)) return refuse(res, 403);
    req.auth = claims;
    next();
  };

export const contenders = {
  /** The ceiling: the same route with no authentication at all. */
  'no auth': async (app) => {
    app.get('/orders', ok);
  },

  /** Calibration: the cost of one more (empty) middleware that sets req.auth. */
  'empty middleware': async (app) => {
    app.get(
      '/orders',
      (req, _res, next) => {
        req.auth = { scopes: ['orders.read'] };
        next();
      },
      ok,
    );
  },

  'cyberark-bearer': async (app, cfg, hooks = {}) => {
    const { createBearerAuth } = await import('../dist/index.js');
    const logger = hooks.logger ?? pino({ level: 'silent' });
    const auth = createBearerAuth({ ...cfg, logger });
    app.get('/orders', auth.requireToken(SCOPE), ok);
  },

  'cyberark-bearer (no token cache)': async (app, cfg, hooks = {}) => {
    const { createBearerAuth } = await import('../dist/index.js');
    const auth = createBearerAuth({ ...cfg, logger: hooks.logger ?? pino({ level: 'silent' }), tokenCache: { max: 0 } });
    // (the same logger as the cached variant: only the cache differs)
    app.get('/orders', auth.requireToken(SCOPE), ok);
  },

  'express-oauth2-jwt-bearer': async (app, cfg) => {
    const { auth, requiredScopes } = require('express-oauth2-jwt-bearer');
    app.get(
      '/orders',
      auth({ issuer: cfg.issuer, jwksUri: cfg.jwksUri, audience: cfg.audience, tokenSigningAlg: 'RS256' }),
      requiredScopes(SCOPE),
      ok,
    );
    app.use((err, _req, res, _next) => refuse(res, err.status ?? 401));
  },

  'express-jwt + jwks-rsa': async (app, cfg) => {
    const { expressjwt } = require('express-jwt');
    const jwksRsa = require('jwks-rsa');
    const check = expressjwt({
      secret: jwksRsa.expressJwtSecret({ jwksUri: cfg.jwksUri, cache: true, rateLimit: true, jwksRequestsPerMinute: 10 }),
      audience: cfg.audience,
      issuer: cfg.issuer,
      algorithms: ['RS256'],
    });
    app.get('/orders', check, (req, res, next) => (hasScope(req.auth) ? next() : refuse(res, 403)), ok);
    app.use((err, _req, res, _next) => refuse(res, err.status ?? 401));
  },

  'aws-jwt-verify': async (app, cfg) => {
    const { JwtRsaVerifier } = require('aws-jwt-verify');
    const verifier = JwtRsaVerifier.create({ issuer: cfg.issuer, audience: cfg.audience, jwksUri: cfg.jwksUri });
    // aws-jwt-verify fetches only https; hydrate it with the key set, as its docs suggest at boot.
    verifier.cacheJwks(await (await fetch(cfg.jwksUri)).json());
    app.get(
      '/orders',
      guard((token) => verifier.verify(token)),
      ok,
    );
  },

  'fast-jwt (cache)': async (app, cfg) => {
    const { createVerifier } = require('fast-jwt');
    const buildGetJwks = require('get-jwks');
    const jwksUrl = new URL(cfg.jwksUri);
    const getJwks = buildGetJwks({ jwksPath: jwksUrl.pathname, providerDiscovery: false });
    const verify = createVerifier({
      key: async ({ header }) => getJwks.getPublicKey({ kid: header.kid, alg: header.alg, domain: jwksUrl.origin }),
      algorithms: ['RS256'],
      allowedAud: cfg.audience,
      allowedIss: cfg.issuer,
      cache: true,
    });
    app.get(
      '/orders',
      guard((token) => verify(token)),
      ok,
    );
  },

  /** What a careful user writes by hand with jose: remote JWKS + jwtVerify on every request. */
  'jose (minimal)': async (app, cfg) => {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(cfg.jwksUri));
    app.get(
      '/orders',
      guard(
        (token) => jwtVerify(token, jwks, { issuer: cfg.issuer, audience: cfg.audience, algorithms: ['RS256'] }),
        (result) => result.payload,
      ),
      ok,
    );
  },
};

/**
 * The contenders of a default run: the ceiling, the cost of any one Express middleware (the floor
 * for every guard), ours with and without its token cache, and the peers.
 */
export const DEFAULT_CONTENDERS = [
  'no auth',
  'empty middleware',
  'cyberark-bearer',
  'cyberark-bearer (no token cache)',
  'express-oauth2-jwt-bearer',
  'express-jwt + jwks-rsa',
  'aws-jwt-verify',
  'fast-jwt (cache)',
  'jose (minimal)',
];
