/**
 * Audiences that are resource URIs (RFC 8707, as MCP uses them): a token names the resource it was
 * issued for, and two spellings that differ only in the case of scheme and host name the same one.
 */

/** RFC 3986 characters, but `#`: a resource indicator has no fragment (RFC 8707 §2). */
const URI_CHARACTERS = /^[A-Za-z0-9\-._~:/?[\]@!$&'()*+,;=%]+$/;
/** scheme "://" authority, then the path and query as written. */
const ABSOLUTE_URI = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/?]+)(.*)$/;
const DEFAULT_PORT: Readonly<Record<string, string>> = { https: ':443', http: ':80' };

/**
 * The canonical form of an absolute URI used as a resource indicator: scheme and host in lower
 * case, no default port, an empty path for `/`; the path and query exactly as written. Undefined
 * for anything else (a fragment, credentials, white space, a relative reference): such an `aud`
 * names no resource.
 */
export function canonicalResource(uri: string): string | undefined {
  if (!URI_CHARACTERS.test(uri)) return undefined;
  const match = ABSOLUTE_URI.exec(uri);
  if (!match) return undefined;
  const scheme = match[1]!.toLowerCase();
  let authority = match[2]!.toLowerCase();
  if (authority.includes('@')) return undefined;
  const port = DEFAULT_PORT[scheme];
  if (port !== undefined && authority.endsWith(port)) authority = authority.slice(0, -port.length);
  else if (authority.endsWith(':')) authority = authority.slice(0, -1);
  const rest = match[3]!;
  return `${scheme}://${authority}${rest === '/' ? '' : rest}`;
}

/**
 * Whether an `aud` claim (a string or an array of them) names `resource`, given in canonical form.
 * Any other claim value names nothing.
 */
export function namesResource(aud: unknown, resource: string): boolean {
  if (typeof aud === 'string') return canonicalResource(aud) === resource;
  return Array.isArray(aud) && aud.some((entry) => typeof entry === 'string' && canonicalResource(entry) === resource);
}
