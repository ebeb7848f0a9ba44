/**
 * The issuer's metadata documents: OpenID Connect Discovery 1.0 (as CyberArk serves it) and
 * RFC 8414 (what MCP clients ask for first), each complete enough for the clients that validate them.
 */

export interface MetadataSetup {
  readonly issuer: string;
  readonly authorizationUrl: string;
  readonly tokenUrl: string;
  readonly jwksUri: string;
  readonly introspectionUrl: string;
  readonly revocationUrl: string;
  /** The registered clients' scopes, read on every request so that clients added later count. */
  readonly scopes: () => readonly string[];
}

/** RFC 8414 §2 authorization server metadata. */
export function authorizationServerMetadata(setup: MetadataSetup): Record<string, unknown> {
  const scopes = setup.scopes();
  return {
    issuer: setup.issuer,
    // Required by both specs and present in CyberArk's document; the kit has no interactive sign-in.
    authorization_endpoint: setup.authorizationUrl,
    token_endpoint: setup.tokenUrl,
    jwks_uri: setup.jwksUri,
    ...(scopes.length > 0 ? { scopes_supported: [...scopes] } : {}),
    response_types_supported: ['code'],
    grant_types_supported: ['client_credentials'],
    token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
    introspection_endpoint: setup.introspectionUrl,
    introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
    revocation_endpoint: setup.revocationUrl,
    revocation_endpoint_auth_methods_supported: ['client_secret_basic'],
  };
}

/** OpenID Connect Discovery 1.0 §3 provider metadata: the RFC 8414 members plus the OpenID-only required ones. */
export function openIdConfiguration(setup: MetadataSetup): Record<string, unknown> {
  return {
    ...authorizationServerMetadata(setup),
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: ['RS256'],
  };
}
