/**
 * One RFC 7662 introspection call: `POST token=…&token_type_hint=access_token` with HTTP Basic client authentication, bounded
 * in time and size, no redirect followed, and the answer reduced to active or not.
 */
import { basicCredentials } from '../client/token-endpoint.js';
import { fetchFollowing, RedirectRefused } from '../http/follow.js';
import { readBody } from '../http/read-body.js';
import { FetchFailure } from '../jwks/fetch.js';

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
  const signal = AbortSignal.timeout(request.timeoutMs);
  let response: Response;
  try {
    // No redirect is followed (maxRedirects 0): a 307 would resend the credentials to wherever it points.
    response = await fetchFollowing(request.url, {
      method: 'POST',
      headers: {
        authorization: basicCredentials(request.clientId, request.clientSecret),
        'content-type': 'application/x-www-form-urlencoded',
        accept: 'application/json',
      },
      body: new URLSearchParams({ token, token_type_hint: 'access_token' }).toString(),
      signal,
      maxRedirects: 0,
      allowInsecureHttp: request.allowInsecureHttp,
    });
  } catch (error) {
    if (error instanceof RedirectRefused) throw new FetchFailure(error.kind, error.message, error.status);
    // The cause (undici's) is dropped: it could describe the request.
    if (signal.aborted) throw new FetchFailure('timeout', `no answer within ${request.timeoutMs} ms`);
    throw new FetchFailure('network', 'connection failed');
  }
  try {
    if (response.status !== 200) throw new FetchFailure('http_status', `HTTP ${response.status}`, response.status);
    const read = await readBody(response, request.maxBytes, signal);
    if (!read.ok) {
      if (read.failure === 'too_large') throw new FetchFailure('too_large', `answer larger than ${request.maxBytes} bytes`);
      if (read.failure === 'timeout') throw new FetchFailure('timeout', `no complete answer within ${request.timeoutMs} ms`);
      throw new FetchFailure('network', 'connection failed while reading');
    }
    let body: unknown;
    try {
      body = JSON.parse(read.text);
    } catch {
      throw new FetchFailure('not_json', 'answer is not JSON');
    }
    if (typeof body !== 'object' || body === null || Array.isArray(body)) {
      throw new FetchFailure('invalid_document', 'answer is not a JSON object');
    }
    const active = Object.hasOwn(body, 'active') ? (body as Record<string, unknown>).active : undefined;
    if (typeof active !== 'boolean') throw new FetchFailure('invalid_document', 'answer has no boolean "active"');
    return active ? { active, members: body as Record<string, unknown> } : { active };
  } finally {
    // Releases the connection whatever happened; a no-op once the body was read.
    response.body?.cancel().catch(() => {});
  }
}
