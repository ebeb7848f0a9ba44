/**
 * cyberark-bearer: lets an API trust machine-to-machine calls carrying CyberArk Identity
 * access tokens. Verifier core, RFC 6750 bearer layer and Express middleware in one package.
 */
import type { AuthInfo } from './types.js';

export { createBearerAuth, requireToken, type BearerAuth } from './create-bearer-auth.js';
export type {
  BearerAuthOptions,
  IssuerOptions,
  KeyCacheOptions,
  VerifiedTokenCacheOptions,
  ResolvedConfig,
  ResolvedIssuer,
  Algorithm,
  TokenKinds,
  IntrospectionOptions,
  ResolvedIntrospection,
} from './config/options.js';
export type { ClaimCheck, ClaimRules, ClaimValue } from './jwt/claim-rules.js';
export type { RouteOptions } from './introspection/verifiers.js';
export { SUPPORTED_ALGORITHMS } from './config/options.js';
export {
  BearerError,
  MissingTokenError,
  InvalidRequestError,
  InvalidTokenError,
  InsufficientScopeError,
  KeysUnavailableError,
  IntrospectionUnavailableError,
  ConfigError,
  KeysFetchError,
  type RefusalReason,
  type OAuthErrorCode,
  type ChallengeParams,
} from './errors.js';
export type { ProtectedResourceOptions } from './bearer/resource.js';
export type { BearerMiddleware, BearerRequest } from './express/middleware.js';
export type { KeySourceStatus } from './jwks/remote.js';
export type { BearerLogger } from './log.js';
export type { ScopeRequirement } from './scopes.js';
export type { AuthInfo, Claims, CustomClaims, StandardClaims, TokenHeader } from './types.js';
export { sendRefusal } from './bearer/respond.js';
export type { AcceptedExplanation, CheckName, Explanation, ExplanationCheck, RefusedExplanation } from './bearer/explain.js';

declare global {
  // Express's request type is global (namespace Express); this types `req.auth` on every route.
  // eslint-disable-next-line @typescript-eslint/no-namespace -- Express types its request in a global namespace; only merging into it reaches every route
  namespace Express {
    interface Request {
      /**
       * Set by `requireToken()`: the verified token. Undefined on routes it does not guard. Where
       * the MCP SDK's bearer middleware is imported, its `auth?: AuthInfo` declaration wins: ours
       * is assignable to it, and `auth.authOf(req)` gives ours, claims included.
       */
      auth: AuthInfo;
    }
  }
}
