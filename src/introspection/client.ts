/**
 * One RFC 7662 introspection call: `POST token=…&token_type_hint=access_token` with HTTP Basic client authentication, bounded
 * in time and size, no redirect followed, and the answer reduced to active or not.
 */
import { basicCredentials } from '../client/token-endpoint.js';
import { fetchJson, FetchFailure } from '../jwks/fetch.js';

export interface IntrospectionRequest {
  readonly url: string;
  readonly clientId: string;
  readonly clientSecret: string;
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly allowInsecureHttp: boolean;
}

/** What the issuer said: inactive (nothing more is read), or active with the answer's members. */
export type IntrospectionAnswer =
  { readonly active: false } | { readonly active: true; readonly members: Readonly<Record<string, unknown>> };

/**
 * Asks whether `token` is active. Throws a FetchFailure (its message ours, safe to log) for
 * anything but a 200 whose body is a JSON object with a boolean `active`: that is the server's
 * fault, never the client's.
 */
export async function introspect(token: string, request: IntrospectionRequest): Promise<IntrospectionAnswer> {
  const { body } = await fetchJson(request.url, request, {
    method: 'POST',
    headers: {
      authorization: basicCredentials(request.clientId, request.clientSecret),
      'content-type': 'application/x-www-form-urlencoded',
    },
    body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
  });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw new FetchFailure('invalid_document', 'answer is not a JSON object');
  }
  const active = Object.hasOwn(body, 'active') ? (body as Record<string, unknown>).active : undefined;
  if (typeof active !== 'boolean') throw new FetchFailure('invalid_document', 'answer has no boolean "active"');
  return active ? { active, members: body as Record<string, unknown> } : { active };
}
