/**
 * What the fuzz suites throw at us: random Authorization headers, and valid tokens mutated at
 * the character, byte, segment and claim level. Seeded by FUZZ_SEED (default: the clock, printed)
 * and scaled by FUZZ_SCALE (default 1), so a failure seen in CI replays exactly.
 */
import fc from 'fast-check';

const scale = Number(process.env.FUZZ_SCALE ?? 1);
const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 2 ** 31;
if (!Number.isInteger(seed) || !(scale > 0)) throw new Error('FUZZ_SEED must be an integer and FUZZ_SCALE a positive number');

/** fast-check parameters for a suite of `runs` cases (times FUZZ_SCALE); prints how to replay it. */
export function fuzzParameters(name: string, runs: number): { seed: number; numRuns: number; endOnFailure: boolean } {
  const numRuns = Math.max(1, Math.round(runs * scale));
  console.log(`[fuzz] ${name}: ${numRuns} cases, seed ${seed} (replay: FUZZ_SEED=${seed} npm test -- test/fuzz)`);
  return { seed, numRuns, endOnFailure: true };
}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Characters worth trying inside a token: the alphabet, separators, padding, space, controls. */
const TRICKY = [...ALPHABET, '.', '=', '+', '/', ' ', '\t', '"', ',', '~', '%', '\u0000', '\u00e9', '\u2028', '\ud83d'];

const b64 = (data: Buffer | string) => Buffer.from(data).toString('base64url');
const unb64 = (segment: string) => Buffer.from(segment, 'base64url');

export interface Mutated {
  readonly original: string;
  readonly token: string;
  readonly how: string;
}

/** A JSON value for claims and header parameters, including the awkward ones. */
const jsonValue = fc.oneof(
  fc.jsonValue({ maxDepth: 2 }),
  fc.constantFrom(null, '', 0, -1, 1e308, 'none', 'RS256', 'HS256', 'orders.read', ['orders.read'], { $ne: 1 }, '__proto__'),
);

const claimName = fc.oneof(
  fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'scope', 'scp', 'jti', 'client_id', '__proto__', 'constructor'),
  fc.string({ maxLength: 8 }),
);
const headerName = fc.oneof(
  fc.constantFrom('alg', 'kid', 'typ', 'crit', 'b64', 'jwk', 'jku', 'x5u', 'x5c', 'cty', 'zip', 'enc'),
  fc.string({ maxLength: 6 }),
);

/** Rewrites a decoded JSON segment: set, delete or retype one member, keeping everything else. */
function reencode(segment: string, change: { name: string; value: unknown; remove: boolean }): string {
  let object: Record<string, unknown>;
  try {
    object = JSON.parse(unb64(segment).toString('utf8')) as Record<string, unknown>;
  } catch {
    return segment;
  }
  const copy: Record<string, unknown> = { ...object };
  if (change.remove) delete copy[change.name];
  else Object.defineProperty(copy, change.name, { value: change.value, enumerable: true, writable: true, configurable: true });
  return b64(JSON.stringify(copy));
}

/** Ways to damage a compact JWS, each named for the report of a failing case. */
export function mutatedToken(originals: readonly string[]): fc.Arbitrary<Mutated> {
  const original = fc.constantFrom(...originals);
  const segmentIndex = fc.integer({ min: 0, max: 2 });
  return fc.oneof(
    // One character replaced, anywhere.
    fc.tuple(original, fc.nat(), fc.constantFrom(...TRICKY)).map(([o, at, c]) => {
      const i = at % o.length;
      return { original: o, token: o.slice(0, i) + c + o.slice(i + 1), how: `char ${i} -> ${JSON.stringify(c)}` };
    }),
    // The last character of a segment replaced: where the base64url pad bits live.
    fc.tuple(original, segmentIndex, fc.constantFrom(...ALPHABET)).map(([o, s, c]) => {
      const parts = o.split('.');
      parts[s] = parts[s]!.slice(0, -1) + c;
      return { original: o, token: parts.join('.'), how: `segment ${s} last char -> ${c}` };
    }),
    // One byte of a decoded segment changed, re-encoded canonically.
    fc.tuple(original, segmentIndex, fc.nat(), fc.integer({ min: 0, max: 255 })).map(([o, s, at, byte]) => {
      const parts = o.split('.');
      const bytes = unb64(parts[s]!);
      if (bytes.length > 0) bytes[at % bytes.length] = byte;
      parts[s] = b64(bytes);
      return { original: o, token: parts.join('.'), how: `segment ${s} byte ${at} -> ${byte}` };
    }),
    // One bit flipped in a decoded segment.
    fc.tuple(original, segmentIndex, fc.nat(), fc.integer({ min: 0, max: 7 })).map(([o, s, at, bit]) => {
      const parts = o.split('.');
      const bytes = unb64(parts[s]!);
      if (bytes.length > 0) bytes[at % bytes.length]! ^= 1 << bit;
      parts[s] = b64(bytes);
      return { original: o, token: parts.join('.'), how: `segment ${s} bit ${bit} of byte ${at}` };
    }),
    // Segments reordered, repeated or dropped.
    fc.tuple(original, fc.array(fc.integer({ min: 0, max: 2 }), { minLength: 0, maxLength: 6 })).map(([o, order]) => {
      const parts = o.split('.');
      return { original: o, token: order.map((i) => parts[i]).join('.'), how: `segments ${order.join(',')}` };
    }),
    // A segment from another valid token.
    fc.tuple(original, original, segmentIndex).map(([o, other, s]) => {
      const parts = o.split('.');
      parts[s] = other.split('.')[s]!;
      return { original: o, token: parts.join('.'), how: `segment ${s} from another token` };
    }),
    // A claim (or header parameter) re-encoded: set, removed, retyped; the signature kept.
    fc
      .tuple(original, fc.boolean(), claimName, headerName, jsonValue, fc.boolean())
      .map(([o, inHeader, claim, param, value, remove]) => {
        const parts = o.split('.');
        const s = inHeader ? 0 : 1;
        const name = inHeader ? param : claim;
        parts[s] = reencode(parts[s]!, { name, value, remove });
        return {
          original: o,
          token: parts.join('.'),
          how: `${inHeader ? 'header' : 'claim'} ${JSON.stringify(name)} ${remove ? 'removed' : `= ${JSON.stringify(value)}`}`,
        };
      }),
    // Cut short, or extended with junk.
    fc.tuple(original, fc.nat(), fc.string({ unit: fc.constantFrom(...TRICKY), maxLength: 12 })).map(([o, at, junk]) => {
      const i = at % (o.length + 1);
      return { original: o, token: o.slice(0, i) + junk, how: `cut at ${i}, then ${JSON.stringify(junk)}` };
    }),
    // Junk inserted somewhere.
    fc
      .tuple(original, fc.nat(), fc.string({ unit: fc.constantFrom(...TRICKY), minLength: 1, maxLength: 6 }))
      .map(([o, at, junk]) => {
        const i = at % (o.length + 1);
        return { original: o, token: o.slice(0, i) + junk + o.slice(i), how: `insert ${JSON.stringify(junk)} at ${i}` };
      }),
  );
}

/** Random strings of every kind: ASCII, Unicode, base64url-looking, JWT-looking. */
export const randomToken: fc.Arbitrary<string> = fc.oneof(
  fc.string({ maxLength: 64 }),
  fc.string({ unit: 'binary', maxLength: 64 }),
  fc.string({ unit: fc.constantFrom(...ALPHABET), minLength: 1, maxLength: 200 }),
  fc
    .tuple(
      fc.jsonValue({ maxDepth: 2 }),
      fc.jsonValue({ maxDepth: 2 }),
      fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 400 }),
    )
    .map(([h, p, s]) => `${b64(JSON.stringify(h))}.${b64(JSON.stringify(p))}.${s}`),
  fc.array(fc.string({ unit: fc.constantFrom(...ALPHABET), maxLength: 40 }), { maxLength: 7 }).map((parts) => parts.join('.')),
);

/** How a token is put into an Authorization header (or not), including the wrong ways. */
export function authorizationHeader(token: fc.Arbitrary<string>): fc.Arbitrary<string | undefined> {
  const scheme = fc.oneof(
    { weight: 8, arbitrary: fc.constant('Bearer ') },
    {
      weight: 1,
      arbitrary: fc.constantFrom('bearer ', 'BEARER  ', 'Bearer\t', 'Bearer', 'Basic ', 'DPoP ', ' Bearer ', 'Bearer , ', ''),
    },
    { weight: 1, arbitrary: fc.string({ maxLength: 10 }) },
  );
  return fc.oneof(
    {
      weight: 10,
      arbitrary: fc
        .tuple(scheme, token, fc.constantFrom('', '', '', ' ', ' x', ',', '\t'))
        .map(([s, t, tail]) => `${s}${t}${tail}`),
    },
    { weight: 1, arbitrary: fc.constant(undefined) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  );
}

/** The ASCII and Latin-1 characters Node's HTTP client lets through in a header value. */
export function sendable(value: string): string {
  return value.replace(/[^\t\x20-\x7e\x80-\xff]/g, '?');
}
