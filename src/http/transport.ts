/**
 * Which URLs may be fetched in the clear: every outgoing request (keys, discovery, tokens, and
 * each redirect they follow) and every URL option obeys the same rule.
 */

const LOOPBACK = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])$/i;

export function isLoopback(url: URL): boolean {
  return LOOPBACK.test(url.hostname);
}

/** https, or plain http to a loopback host or when `allowInsecureHttp`. */
export function transportAllowed(url: URL, allowInsecureHttp: boolean): boolean {
  return url.protocol === 'https:' || allowInsecureHttp || isLoopback(url);
}
