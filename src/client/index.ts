/**
 * `cyberark-bearer/client`: the calling service's side. Gets access tokens by client credentials,
 * keeps them until they near expiry, and sends them as `Authorization: Bearer`.
 */
export { createClientCredentials, type ClientCredentials } from './credentials.js';
export type { ClientCredentialsOptions, ClientAuthMethod, TokenRetryOptions, ResolvedClientConfig } from './options.js';
export type { AccessToken } from './token-endpoint.js';
export { TokenError, TokenRequestError, TokenUnavailableError, type TokenFailureKind } from './errors.js';
export { ConfigError } from '../errors.js';
