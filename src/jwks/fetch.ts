/**
 * A bounded GET of a JSON document (a JWKS or discovery metadata): time limit, size limit,
 * a few redirects each held to the transport rule, and failures reduced to a few safe kinds.
 */
import { fetchFollowing, RedirectRefused } from '../http/follow.js';
import { readBody, type BodyFailure } from '../http/read-body.js';

export type FetchFailureKind =
  | 'timeout'
  | 'network'
  | 'http_status'
  | 'too_large'
  | 'not_json'
  | 'insecure_redirect'
  | 'too_many_redirects'
  | 'bad_redirect'
  | 'invalid_document';

/** Why a fetch failed. The message is ours (safe to log); `status` is set for HTTP errors and refused redirects. */
export class FetchFailure extends Error {
  readonly kind: FetchFailureKind;
  readonly status: number | undefined;
  constructor(kind: FetchFailureKind, message: string, status?: number) {
    super(message);
    this.name = 'FetchFailure';
    this.kind = kind;
    this.status = status;
  }
}

export interface FetchLimits {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly allowInsecureHttp: boolean;
}

export interface FetchedJson {
  readonly body: unknown;
  /** `Cache-Control: max-age` in seconds (0 for `no-store`/`no-cache`), if the server sent one. */
  readonly maxAge: number | undefined;
}

const MAX_AGE = /(?:^|,)\s*max-age\s*=\s*"?(\d+)"?\s*(?:,|$)/i;
const NO_CACHE = /(?:^|,)\s*no-(?:store|cache)\s*(?:,|$)/i;

function parseMaxAge(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (NO_CACHE.test(cacheControl)) return 0;
  const match = MAX_AGE.exec(cacheControl);
  return match ? Number(match[1]) : undefined;
}

/** Enough for a moved tenant or a CDN in front of the keys; a longer chain is a misconfiguration. */
const MAX_REDIRECTS = 3;

/**
 * What is sent: a GET, which follows up to MAX_REDIRECTS hops, or a form POST (introspection),
 * which follows none: a 307 would resend its credentials to wherever it points.
 */
export type JsonRequest =
  | { readonly method: 'GET' }
  | { readonly method: 'POST'; readonly headers: Readonly<Record<string, string>>; readonly body: string };

const GET: JsonRequest = { method: 'GET' };

/**
 * A bounded request for a JSON document. Throws a FetchFailure (its message ours, safe to log)
 * for anything but a 2xx answer whose body parses as JSON; the status of an HTTP error is kept.
 */
export async function fetchJson(url: string, limits: FetchLimits, request: JsonRequest = GET): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  const common = { signal, allowInsecureHttp: limits.allowInsecureHttp };
  let response: Response;
  try {
    response = await fetchFollowing(
      url,
      request.method === 'GET'
        ? { ...common, method: 'GET', headers: { accept: 'application/json' }, maxRedirects: MAX_REDIRECTS }
        : {
            ...common,
            method: 'POST',
            headers: { ...request.headers, accept: 'application/json' },
            body: request.body,
            maxRedirects: 0,
          },
    );
  } catch (error) {
    if (error instanceof RedirectRefused) throw new FetchFailure(error.kind, error.message, error.status);
    // The cause (undici's) is dropped: it could describe the request.
    if (signal.aborted) throw new FetchFailure('timeout', `no answer within ${limits.timeoutMs} ms`);
    throw new FetchFailure('network', 'connection failed');
  }
  try {
    if (!response.ok) throw new FetchFailure('http_status', `HTTP ${response.status}`, response.status);
    const read = await readBody(response, limits.maxBytes, signal);
    if (!read.ok) throw bodyFailure(read.failure, limits);
    const { text } = read;
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new FetchFailure('not_json', 'response is not JSON');
    }
    return { body, maxAge: parseMaxAge(response.headers.get('cache-control')) };
  } finally {
    // Releases the connection whatever happened; a no-op once the body was read.
    response.body?.cancel().catch(() => {});
  }
}

function bodyFailure(failure: BodyFailure, limits: { maxBytes: number; timeoutMs: number }): FetchFailure {
  switch (failure) {
    case 'too_large':
      return new FetchFailure('too_large', `document larger than ${limits.maxBytes} bytes`);
    case 'timeout':
      return new FetchFailure('timeout', `no complete answer within ${limits.timeoutMs} ms`);
    case 'network':
      return new FetchFailure('network', 'connection failed while reading');
  }
}
