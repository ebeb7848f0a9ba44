/**
 * Strictness that jose leaves to the caller about the compact serialization: every segment in
 * canonical base64url, so that a token has exactly one spelling. Pure functions, no state.
 */

/** Value of each base64url character (RFC 4648 §5), -1 for any other code unit. */
const VALUE = new Int8Array(128).fill(-1);
'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_'.split('').forEach((c, i) => {
  VALUE[c.charCodeAt(0)] = i;
});

/**
 * True when `segment` is canonical unpadded base64url: only the 64 characters, a length that
 * whole bytes can produce (never 1 mod 4), and zero pad bits in the last character
 * (RFC 4648 §3.5). Decoders, Node's and atob among them, ignore the pad bits, so without this
 * check one signature has 4 or 16 spellings and one token many distinct strings.
 */
export function isCanonicalBase64url(segment: string): boolean {
  const rest = segment.length % 4;
  if (rest === 1) return false;
  for (let i = 0; i < segment.length; i++) {
    const code = segment.charCodeAt(i);
    if (code >= 128 || VALUE[code]! < 0) return false;
  }
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
