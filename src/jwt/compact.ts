/**
 * Strictness that jose leaves to the caller about the compact serialization: every segment in
 * canonical base64url, so that a token has exactly one spelling, and header and claims without
 * duplicate member names, so that every JSON parser reads one meaning. Pure functions, no state.
 */

/** Value of each base64url character (RFC 4648 §5), -1 for any other code unit. */
const VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => {
  VALUE[c.charCodeAt(0)] = i;
});

/** The 64 characters of base64url, nothing else: a regular expression scans faster than a loop. */
const BASE64URL = /^[A-Za-z0-9_-]*$/;

/**
 * True when `segment` is canonical unpadded base64url: only the 64 characters, a length that
 * whole bytes can produce (never 1 mod 4), and zero pad bits in the last character
 * (RFC 4648 §3.5). Decoders, Node's and atob among them, ignore the pad bits, so without this
 * check one signature has 4 or 16 spellings and one token many distinct strings.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1 || !BASE64URL.test(segment)) return false;
  if (rest === 0) return true;
  const last = VALUE[segment.charCodeAt(segment.length - 1)]!;
  // 2 characters carry 1 byte (4 pad bits), 3 characters carry 2 bytes (2 pad bits).
  return (last & (rest === 2 ? 0x0f : 0x03)) === 0;
}

/** True when each dot-separated part of `token` is canonical base64url (an empty part is). */
export function hasCanonicalSegments(token: string): boolean {
  let start = 0;
  for (;;) {
    const dot = token.indexOf('.', start);
    const end = dot === -1 ? token.length : dot;
    if (!isCanonicalBase64url(token.slice(start, end))) return false;
    if (dot === -1) return true;
    start = dot + 1;
  }
}

/**
 * How many member names a JSON text holds, in every object at any depth; the text as UTF-8
 * bytes, one that JSON.parse accepted. Outside strings, a colon follows a member name and
 * nothing else. No byte of a multi-byte UTF-8 character is a quote, a backslash or a colon,
 * so the bytes are scanned as they are, without building a string.
 */
export function memberNameCount(json: Uint8Array): number {
  let count = 0;
  for (let i = 0; i < json.length; i++) {
    const c = json[i]!;
    if (c === 0x3a) count++;
    else if (c === 0x22) {
      // To the closing quote; a backslash escapes the byte after it.
      for (i++; i < json.length && json[i] !== 0x22; i++) if (json[i] === 0x5c) i++;
    }
  }
  return count;
}

/** How many own keys the objects of a parsed JSON value hold, at any depth. */
export function ownKeyCount(value: unknown): number {
  if (typeof value !== 'object' || value === null) return 0;
  let count = 0;
  if (Array.isArray(value)) {
    for (const item of value) count += ownKeyCount(item);
    return count;
  }
  const keys = Object.keys(value);
  count = keys.length;
  for (const key of keys) {
    const member = (value as Record<string, unknown>)[key];
    if (typeof member === 'object' && member !== null) count += ownKeyCount(member);
  }
  return count;
}

/**
 * True when the header or the claims set of a compact JWS repeats a member name. RFC 7515 §4 and
 * RFC 7519 §4 let a parser either refuse such a token or keep the last value; JSON.parse keeps
 * the last, other parsers the first or fail. Refusing is the only reading that cannot differ from
 * what a downstream service that receives the same token decides.
 *
 * `header` and `claims` are what JSON.parse made of the two segments (jose's parse, reused).
 * Each object it builds holds one key per distinct name, so the text holds more names than the
 * parse holds keys exactly when some object repeats one (`"aud"` and `"\u0061ud"` included).
 */
export function compactHasDuplicateNames(token: string, header: unknown, claims: unknown): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first === -1 || second === -1) return false;
  const bytes = (start: number, end: number) => Buffer.from(token.slice(start, end), 'base64url');
  return (
    memberNameCount(bytes(0, first)) !== ownKeyCount(header) || memberNameCount(bytes(first + 1, second)) !== ownKeyCount(claims)
  );
}
