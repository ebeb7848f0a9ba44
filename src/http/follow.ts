/**
 * An outgoing request that follows redirects itself, so that every hop, not only the last, is held
 * to the transport rule: https, or plain http to loopback or with `allowInsecureHttp`.
 */
import { isLoopback, transportAllowed } from './transport.js';

interface Common {
  readonly headers: Readonly<Record<string, string>>;
  readonly signal: AbortSignal;
  readonly allowInsecureHttp: boolean;
}

/**
 * A GET follows up to `maxRedirects` hops. A POST follows none: a 307 or 308 would resend its
 * body (a client secret) to wherever it points; the redirect is still checked, to say why.
 */
export type OutgoingRequest =
  | (Common & { readonly method: 'GET'; readonly maxRedirects: number })
  | (Common & { readonly method: 'POST'; readonly body: string; readonly maxRedirects: 0 });

export type RedirectProblem = 'insecure_redirect' | 'too_many_redirects' | 'bad_redirect';

/** A redirect not taken. The message is ours and names the hop without query or credentials. */
export class RedirectRefused extends Error {
  readonly kind: RedirectProblem;
  /** Status of the redirect. */
  readonly status: number;
  /** Where it pointed: origin and path, or undefined when the Location is unusable. */
  readonly hop: string | undefined;
  constructor(kind: RedirectProblem, message: string, status: number, hop: string | undefined) {
    super(message);
    this.name = 'RedirectRefused';
    this.kind = kind;
    this.status = status;
    this.hop = hop;
  }
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** A Location can be as long as a header; a message need not be. */
const MAX_SHOWN = 200;

/** A URL as a message may show it: no credentials, query or fragment, and not too long. */
export function originAndPath(url: URL): string {
  const shown = `${url.protocol}//${url.host}${url.pathname}`;
  return shown.length > MAX_SHOWN ? `${shown.slice(0, MAX_SHOWN)}…` : shown;
}

/**
 * `fetch` with redirects followed by hand. Resolves with the first answer that is not a redirect
 * (a 3xx without Location included); rejects with RedirectRefused for a hop not taken, or with
 * fetch's own error when a connection fails.
 */
export async function fetchFollowing(url: string, request: OutgoingRequest): Promise<Response> {
  const { headers, signal, allowInsecureHttp, maxRedirects } = request;
  const init: RequestInit = { method: request.method, headers, signal, redirect: 'manual' };
  if (request.method === 'POST') init.body = request.body;
  let current = new URL(url);
  // Only a request that started on this machine may be sent back to it: a remote server must not
  // make us probe local services.
  const local = isLoopback(current);
  for (let hops = 0; ; hops++) {
    const response = await fetch(current, init);
    const location = REDIRECTS.has(response.status) ? response.headers.get('location') : null;
    if (location === null) return response;
    // The body of a redirect is never read: free the connection.
    response.body?.cancel().catch(() => {});
    const { status } = response;
    let next: URL;
    try {
      next = new URL(location, current);
    } catch {
      throw new RedirectRefused('bad_redirect', 'redirect to an unreadable Location refused', status, undefined);
    }
    const hop = originAndPath(next);
    if (next.protocol !== 'https:' && next.protocol !== 'http:') {
      throw new RedirectRefused('insecure_redirect', `redirect to ${hop} refused: only http and https are followed`, status, hop);
    }
    // Checked before the hop count, so that a caller that follows none still learns which it was.
    if (!transportAllowed(next, allowInsecureHttp)) {
      throw new RedirectRefused(
        'insecure_redirect',
        `redirect to ${hop} refused: plain http is allowed only to loopback hosts (or with allowInsecureHttp)`,
        status,
        hop,
      );
    }
    if (!local && isLoopback(next)) {
      throw new RedirectRefused(
        'insecure_redirect',
        `redirect to ${hop} refused: a remote host may not redirect to this machine`,
        status,
        hop,
      );
    }
    if (next.username || next.password) {
      throw new RedirectRefused('bad_redirect', `redirect to ${hop} refused: it carries credentials`, status, hop);
    }
    if (hops >= maxRedirects) {
      throw new RedirectRefused('too_many_redirects', `more than ${maxRedirects} redirects (the last to ${hop})`, status, hop);
    }
    current = next;
  }
}
