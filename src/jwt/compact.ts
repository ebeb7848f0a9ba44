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

/**
 * True when a JSON text has an object with the same member name twice, at any depth. Names are
 * compared decoded, so `"aud"` and `"\u0061ud"` are the same. Meant for text that JSON.parse
 * has accepted: it only tracks strings, braces, brackets and commas.
 */
export function hasDuplicateMemberNames(json: string): boolean {
  // One entry per open object (its names so far) or array (undefined).
  const open: Array<Set<string> | undefined> = [];
  let expectName = false;
  for (let i = 0; i < json.length; i++) {
    const c = json.charCodeAt(i);
    if (c === 0x22) {
      let end = i + 1;
      let escaped = false;
      for (; end < json.length; end++) {
        const d = json.charCodeAt(end);
        if (d === 0x5c) {
          escaped = true;
          end++;
        } else if (d === 0x22) break;
      }
      if (expectName) {
        const name = escaped ? (JSON.parse(json.slice(i, end + 1)) as string) : json.slice(i + 1, end);
        const names = open[open.length - 1]!;
        if (names.has(name)) return true;
        names.add(name);
        expectName = false;
      }
      i = end;
    } else if (c === 0x7b) {
      open.push(new Set());
      expectName = true;
    } else if (c === 0x5b) {
      open.push(undefined);
      expectName = false;
    } else if (c === 0x7d || c === 0x5d) {
      open.pop();
      expectName = false;
    } else if (c === 0x2c) {
      expectName = open[open.length - 1] !== undefined;
    }
  }
  return false;
}

/**
 * True when the header or the claims set of a compact JWS repeats a member name. RFC 7515 §4 and
 * RFC 7519 §4 let a parser either refuse such a token or keep the last value; JSON.parse keeps
 * the last, other parsers the first or fail. Refusing is the only reading that cannot differ from
 * what a downstream service that receives the same token decides.
 */
export function compactHasDuplicateNames(token: string): boolean {
  const first = token.indexOf('.');
  const second = token.indexOf('.', first + 1);
  if (first === -1 || second === -1) return false;
  const decode = (segment: string) => Buffer.from(segment, 'base64url').toString('utf8');
  return hasDuplicateMemberNames(decode(token.slice(0, first))) || hasDuplicateMemberNames(decode(token.slice(first + 1, second)));
}
