/**
 * A bounded GET of a JSON document (a JWKS or discovery metadata): time limit, size limit,
 * no downgrade to plain http through redirects, and failures reduced to a few safe kinds.
 */
import { isLoopback } from '../config.js';

export type FetchFailureKind =
  | 'timeout'
  | 'network'
  | 'http_status'
  | 'too_large'
  | 'not_json'
  | 'insecure_redirect'
  | 'invalid_document';

/** Why a fetch failed. The message is ours (safe to log); `status` is set for HTTP errors. */
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

export function parseMaxAge(cacheControl: string | null): number | undefined {
  if (!cacheControl) return undefined;
  if (NO_CACHE.test(cacheControl)) return 0;
  const match = MAX_AGE.exec(cacheControl);
  return match ? Number(match[1]) : undefined;
}

export async function fetchJson(url: string, limits: FetchLimits): Promise<FetchedJson> {
  const signal = AbortSignal.timeout(limits.timeoutMs);
  let response: Response;
  try {
    response = await fetch(url, { signal, redirect: 'follow', headers: { accept: 'application/json' } });
  } catch {
    if (signal.aborted) throw new FetchFailure('timeout', `no answer within ${limits.timeoutMs} ms`);
    throw new FetchFailure('network', 'connection failed');
  }
  try {
    if (response.redirected) {
      const final = new URL(response.url);
      if (final.protocol !== 'https:' && !limits.allowInsecureHttp && !isLoopback(final)) {
        throw new FetchFailure('insecure_redirect', 'redirected to a plain http URL');
      }
    }
    if (!response.ok) throw new FetchFailure('http_status', `HTTP ${response.status}`, response.status);
    const declared = Number(response.headers.get('content-length') ?? NaN);
    if (declared > limits.maxBytes) throw new FetchFailure('too_large', `document larger than ${limits.maxBytes} bytes`);
    const text = await readLimited(response, limits.maxBytes, signal, limits.timeoutMs);
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

async function readLimited(response: Response, maxBytes: number, signal: AbortSignal, timeoutMs: number): Promise<string> {
  if (!response.body) return '';
  const reader = response.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) throw new FetchFailure('too_large', `document larger than ${maxBytes} bytes`);
      chunks.push(value);
    }
  } catch (error) {
    if (error instanceof FetchFailure) throw error;
    if (signal.aborted) throw new FetchFailure('timeout', `no complete answer within ${timeoutMs} ms`);
    throw new FetchFailure('network', 'connection failed while reading');
  } finally {
    reader.releaseLock();
  }
  return Buffer.concat(chunks).toString('utf8');
}
