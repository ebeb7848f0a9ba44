/**
 * The verifier a route runs, by the `tokens` option and the route's `revocation`: JWTs locally,
 * opaque tokens by introspection, and JWTs of revocation-sensitive routes both ways.
 */
import type { AccessTokenVerifier } from '../bearer/authenticate.js';
import type { TokenKinds } from '../config/options.js';
import { ConfigError } from '../errors.js';
import { kindOf, ownProperties } from '../config/checks.js';
import type { TokenVerifier } from '../jwt/verify.js';
import type { AuthInfo } from '../types.js';
import { isJwsShaped, isJwtShaped, type Introspector } from './introspector.js';

/** What one route asks beyond its scopes. */
export interface RouteOptions {
  /**
   * `'introspect'`: also ask the issuer whether a JWT is still active (revoked, or its service user
   * disabled), within `introspection.cacheTtl`. Opaque tokens are always introspected.
   */
  readonly revocation?: 'introspect' | undefined;
}

/** Validates a route's options; true when the route checks revocation. Throws a ConfigError. */
export function checksRevocation(route: unknown): boolean {
  if (route === undefined) return false;
  if (typeof route !== 'object' || route === null || Array.isArray(route)) {
    throw new ConfigError('route', `must be an object such as { revocation: 'introspect' }, got ${kindOf(route)}`);
  }
  const { revocation, ...rest } = ownProperties(route);
  const [unknown] = Object.keys(rest);
  if (unknown !== undefined) throw new ConfigError(`route.${unknown}`, 'is not a route option (known: revocation)');
  if (revocation !== undefined && revocation !== 'introspect') {
    const shown = typeof revocation === 'string' ? JSON.stringify(revocation) : kindOf(revocation);
    throw new ConfigError('route.revocation', `must be "introspect", got ${shown}`);
  }
  return revocation === 'introspect';
}

/** Every token introspected (`tokens: 'opaque'`). */
class IntrospectedTokens implements AccessTokenVerifier {
  constructor(readonly introspector: Introspector) {}
  cached(token: string): AuthInfo<object> | undefined {
    return this.introspector.cached(token, isJwsShaped(token));
  }
  verifyUncached(token: string): Promise<AuthInfo<object>> {
    return this.introspector.check(token, isJwsShaped(token));
  }
}

/** A JWT verified locally, then found active by introspection (a route with `revocation`). */
class RevocationChecked implements AccessTokenVerifier {
  constructor(
    readonly jwt: TokenVerifier,
    readonly introspector: Introspector,
  ) {}
  cached(token: string): AuthInfo<object> | undefined {
    const auth = this.jwt.cached(token);
    return auth !== undefined && this.introspector.cached(token, true) !== undefined ? auth : undefined;
  }
  async verifyUncached(token: string): Promise<AuthInfo<object>> {
    // Locally first: a forged token is refused without costing a call.
    const auth = this.jwt.cached(token) ?? (await this.jwt.verifyUncached(token));
    await this.introspector.check(token, true);
    return auth;
  }
}

/** Tokens with two dots or more to one verifier (malformed ones refused there), the others to introspection (`tokens: 'any'`). */
class ByShape implements AccessTokenVerifier {
  constructor(
    readonly jws: AccessTokenVerifier,
    readonly introspector: Introspector,
  ) {}
  cached(token: string): AuthInfo<object> | undefined {
    return isJwtShaped(token) ? this.jws.cached(token) : this.introspector.cached(token, false);
  }
  verifyUncached(token: string): Promise<AuthInfo<object>> {
    return isJwtShaped(token) ? this.jws.verifyUncached(token) : this.introspector.check(token, false);
  }
}

/** The verifier for `tokens` on a route that does (or does not) check revocation. */
export function routeVerifier(
  tokens: TokenKinds,
  jwt: TokenVerifier,
  introspector: Introspector | undefined,
  revocation: boolean,
): AccessTokenVerifier {
  if (introspector === undefined) {
    // resolveConfig requires introspection for the other kinds; the route check, for revocation.
    if (tokens !== 'jwt' || revocation) throw new TypeError('cyberark-bearer: introspection is not configured');
    return jwt;
  }
  if (tokens === 'opaque') return new IntrospectedTokens(introspector);
  const jws = revocation ? new RevocationChecked(jwt, introspector) : jwt;
  return tokens === 'any' ? new ByShape(jws, introspector) : jws;
}
