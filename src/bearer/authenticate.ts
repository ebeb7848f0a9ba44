/**
 * The one path of a request, for the Express middleware, `authenticate(req)` and the CLI alike:
 * extract the token, answer a token verified before at once, else verify it, then the scopes.
 */
import { BearerError, InsufficientScopeError, InvalidRequestError } from '../errors.js';
import { satisfies, type CompiledRequirement } from '../scopes.js';
import type { AuthInfo } from '../types.js';
import { extractToken, isB64Token, type ExtractOptions, type RequestLike } from './extract.js';

/**
 * What the pipeline asks of a verifier: TokenVerifier for JWTs; an RFC 7662 introspection client
 * would be another. Both throw BearerErrors for tokens they refuse.
 */
export interface AccessTokenVerifier {
  /**
   * The verification of a token seen before, synchronously; undefined means "check it", never
   * "invalid". Throws the refusal of a check it runs on every request (a claim rule function).
   */
  cached(token: string): AuthInfo<object> | undefined;
  /** The full check of a token `cached` just missed. */
  verifyUncached(token: string): Promise<AuthInfo<object>>;
}

export class BearerAuthenticator {
  readonly #verifier: AccessTokenVerifier;
  readonly #extract: ExtractOptions;

  constructor(verifier: AccessTokenVerifier, extract: ExtractOptions) {
    this.#verifier = verifier;
    this.#extract = extract;
  }

  /**
   * A request's verified token with the scopes `requirement` asks for. A token verified before is
   * answered with the AuthInfo itself, no promise (the hot path); any other with a promise of it.
   * Refusals known without verifying (no token, a malformed request, a cached token lacking scopes)
   * are thrown at once; the promise rejects with the others.
   */
  authenticate(req: RequestLike, requirement: CompiledRequirement): AuthInfo<object> | Promise<AuthInfo<object>> {
    const token = extractToken(req, this.#extract);
    const hit = this.#verifier.cached(token);
    if (hit !== undefined) return permitted(hit, requirement);
    return this.#verifier.verifyUncached(token).then(
      (auth) => permitted(auth, requirement),
      (error: unknown) => {
        // Anything that verifies is a b64token, so its syntax is checked only on failure: a
        // token outside RFC 6750's alphabet is a malformed request (400), not a bad token.
        throw error instanceof BearerError && !isB64Token(token) ? new InvalidRequestError('malformed_request') : error;
      },
    );
  }
}

/** `auth` if it grants what `requirement` asks, else the 403 (its `sub` and `kid` for the log). */
function permitted(auth: AuthInfo<object>, requirement: CompiledRequirement): AuthInfo<object> {
  if (requirement.mode === 'none' || satisfies(auth.scopes, requirement)) return auth;
  throw new InsufficientScopeError(requirement.challenge, { subject: auth.subject, kid: auth.header.kid });
}
