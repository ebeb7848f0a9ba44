/**
 * The token endpoint: confidential clients authenticate (form body or HTTP Basic) for a
 * client_credentials token with the scopes they may have, for the RFC 8707 resources they name,
 * or get an RFC 6749 §5.2 error.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Client, Clients } from './clients.js';
import { basicCredentials, formPost, invalidRequest, NO_STORE, readForm, Refusal } from './form-post.js';
import { sendJson, type Answer } from './server.js';

/** What the endpoint does with RFC 8707's `resource`; see `TestIssuerOptions.resourceIndicators`. */
export type ResourceIndicators = 'audience' | 'ignore';

export interface TokenEndpointSetup {
  /** Realm of the Basic challenge. */
  readonly appId: string;
  /** `expires_in` of the answers; the tokens' lifetime. */
  readonly lifetime: number;
  readonly clients: Clients;
  /** Makes the access token from its claims: a JWT, or an opaque token. */
  readonly issue: (claims: Record<string, unknown>) => string;
  readonly resourceIndicators: ResourceIndicators;
  /** The audiences a `resource` may name. */
  readonly audiences: readonly string[];
}

export function tokenEndpoint(setup: TokenEndpointSetup): Answer {
  return formPost((req, res) => answer(setup, req, res));
}

async function answer(setup: TokenEndpointSetup, req: IncomingMessage, res: ServerResponse): Promise<Refusal | void> {
  const granted = await grant(setup, req);
  if (granted instanceof Refusal) return granted;
  const { scope, audience } = granted;
  const token = setup.issue({
    ...granted.client.claims,
    sub: granted.client.subject,
    unique_name: granted.client.clientId,
    ...(scope ? { scope } : {}),
    ...(audience ? { aud: audience } : {}),
  });
  sendJson(
    res,
    200,
    { access_token: token, token_type: 'Bearer', expires_in: setup.lifetime, ...(scope ? { scope } : {}) },
    NO_STORE,
  );
}

interface Grant {
  readonly client: Client;
  readonly scope: string;
  /** The `aud` the requested resources ask for; undefined: the issuer's audience. */
  readonly audience: string | string[] | undefined;
}

/** The client, the scope it is granted and the resources it may address, or why not. */
async function grant(setup: TokenEndpointSetup, req: IncomingMessage): Promise<Grant | Refusal> {
  const form = await readForm(req, ['grant_type', 'scope', 'client_id', 'client_secret']);
  if (form instanceof Refusal) return form;
  const client = authenticate(setup, req, form);
  if (client instanceof Refusal) return client;
  const grantType = form.get('grant_type');
  if (!grantType) return invalidRequest('grant_type is required');
  if (grantType !== 'client_credentials') {
    return new Refusal(400, 'unsupported_grant_type', 'only client_credentials is supported');
  }
  const allowed = client.scopes ?? [];
  const requestedText = form.get('scope');
  const requested = requestedText === null ? [...allowed] : requestedText.split(' ').filter(Boolean);
  if (requested.some((s) => !allowed.includes(s))) {
    return new Refusal(400, 'invalid_scope', 'requested scope is not allowed for this client');
  }
  const audience = setup.resourceIndicators === 'ignore' ? undefined : targetAudience(setup, form.getAll('resource'));
  if (audience instanceof Refusal) return audience;
  return { client, scope: [...new Set(requested)].join(' '), audience };
}

/**
 * RFC 8707 §2: each `resource` is an absolute URI without a fragment, and the token is for it.
 * Here a resource must be one of the issuer's audiences, as written: an authorization server
 * only mints tokens for resources it knows.
 */
function targetAudience(setup: TokenEndpointSetup, resources: string[]): string | string[] | undefined | Refusal {
  if (resources.length === 0) return undefined;
  for (const resource of resources) {
    if (!URL.canParse(resource) || resource.includes('#')) {
      return new Refusal(400, 'invalid_target', 'resource must be an absolute URI without a fragment');
    }
    if (!setup.audiences.includes(resource)) return new Refusal(400, 'invalid_target', 'resource is not known to this issuer');
  }
  const unique = [...new Set(resources)];
  return unique.length === 1 ? unique[0] : unique;
}

/** RFC 6749 §2.3.1: the client's id and secret, in the form body or as HTTP Basic, not both. */
function authenticate(setup: TokenEndpointSetup, req: IncomingMessage, form: URLSearchParams): Client | Refusal {
  const basic = basicCredentials(req.headers.authorization);
  if (basic === null) return invalidRequest('malformed Basic credentials');
  const bodySecret = form.get('client_secret');
  if (basic && bodySecret !== null) return invalidRequest('use one client authentication method');
  const id = basic?.id ?? form.get('client_id');
  const secret = basic?.secret ?? bodySecret;
  const challenge = basic ? { 'WWW-Authenticate': `Basic realm="${setup.appId}"` } : {};
  if (!id || secret === null) return new Refusal(401, 'invalid_client', 'client authentication required', challenge);
  const client = setup.clients.authenticate(id, secret);
  if (client === 'disabled') return new Refusal(401, 'invalid_client', 'client is disabled', challenge);
  if (!client) return new Refusal(401, 'invalid_client', 'client authentication failed', challenge);
  return client;
}
