/**
 * The shape of a verified CyberArk Identity access token as the application sees it.
 * Augment `CustomClaims` to type your app's own claims everywhere `req.auth` appears.
 */

/** The protected header of a verified token (`{}` for a token known by introspection alone). */
export interface TokenHeader {
  /** Always set for a JWT; absent for a token known by introspection alone. */
  readonly alg?: string;
  readonly kid?: string;
  readonly typ?: string;
  readonly [parameter: string]: unknown;
}

/** Claims of a CyberArk Identity access token; only `iss`, `aud`, `exp` are guaranteed. */
export interface StandardClaims {
  readonly iss: string;
  readonly aud: string | readonly string[];
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
  /** The service user's UUID. */
  readonly sub?: string;
  readonly jti?: string;
  /** Space-separated scopes (CyberArk's form). */
  readonly scope?: string;
  /** Scopes as an array (other issuers). */
  readonly scp?: string | readonly string[];
  readonly client_id?: string;
  readonly azp?: string;
  /** CyberArk: the login name; for client credentials, the client id. */
  readonly unique_name?: string;
  /** CyberArk: the Application ID that issued the token. */
  readonly app_id?: string;
}

/**
 * Your claims, merged into every `AuthInfo` by declaration merging:
 * ```ts
 * declare module 'cyberark-bearer' {
 *   interface CustomClaims { tenant_role?: 'admin' | 'reader' }
 * }
 * ```
 */
// eslint-disable-next-line @typescript-eslint/no-empty-object-type -- empty on purpose: users merge their claims into it
export interface CustomClaims {}

export type Claims = StandardClaims & CustomClaims & { readonly [claim: string]: unknown };

/** What a verified request carries as `req.auth` (and what `verify()` returns). */
export interface AuthInfo<C extends object = Claims> {
  /** The raw access token, for calling downstream APIs on the caller's behalf. Never log it. */
  readonly token: string;
  readonly header: TokenHeader;
  readonly claims: C;
  /**
   * Scopes granted by the token (from `scope`, then `scp`, or the configured claim). Frozen like
   * the rest; typed as a plain array so that `req.auth` is the MCP SDK's `AuthInfo` as it is.
   */
  readonly scopes: string[];
  /** `sub`, when it is a string. */
  readonly subject: string | undefined;
  /**
   * The calling client: `client_id`, else `azp`, else `unique_name`, else `sub` (the first that is
   * a non-empty string); `''` when the token names none. Always a string, as MCP's `AuthInfo` has it.
   */
  readonly clientId: string;
  /**
   * `exp`, in seconds since the epoch. For an introspected token whose answer has no `exp`: when
   * that answer stops being relied on (the time of the call plus `introspection.cacheTtl`).
   */
  readonly expiresAt: number;
  /** The configured issuer that admitted the token: its `iss`, exactly. */
  readonly issuer: string;
  /**
   * How the token was accepted: `'jwt'`, verified locally (and, on a route with
   * `{ revocation: 'introspect' }`, found active by introspection too); `'introspection'`, an
   * opaque token the issuer's introspection endpoint answered for (`claims` holds that answer).
   */
  readonly source: 'jwt' | 'introspection';
}
