/**
 * The compact serialization, read strictly: one spelling per token (canonical base64url) and one
 * meaning (no duplicate member names). The pure checks of src/jwt/compact.ts, then their effect
 * through verify().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import {
  compactHasDuplicateNames,
  hasCanonicalSegments,
  isCanonicalBase64url,
  memberNameCount,
  ownKeyCount,
} from '../src/jwt/compact.js';
import { silent } from './support/logger.js';
import { createForge, type Forge } from './security/forge.js';

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';

/** The same bytes spelt with other pad bits in the last character (for lengths 2 and 3 mod 4). */
function respell(segment: string, padBits: number): string {
  const last = ALPHABET.indexOf(segment.at(-1)!);
  return segment.slice(0, -1) + ALPHABET[last ^ padBits];
}

describe('isCanonicalBase64url', () => {
  it('accepts what Buffer encodes, for every length mod 4', () => {
    for (let n = 0; n < 64; n++) {
      const bytes = Buffer.from(Array.from({ length: n }, (_, i) => (i * 37 + n) & 0xff));
      expect(isCanonicalBase64url(bytes.toString('base64url'))).toBe(true);
    }
  });

  it('refuses non-zero pad bits, which decoders silently drop', () => {
    const one = Buffer.from([0xfb]).toString('base64url'); // 2 characters, 4 pad bits
    const two = Buffer.from([0xfb, 0xff]).toString('base64url'); // 3 characters, 2 pad bits
    expect(Buffer.from(respell(one, 0b0001), 'base64url')).toEqual(Buffer.from([0xfb]));
    expect(isCanonicalBase64url(respell(one, 0b0001))).toBe(false);
    expect(isCanonicalBase64url(respell(one, 0b1000))).toBe(false);
    expect(isCanonicalBase64url(respell(two, 0b01))).toBe(false);
    expect(isCanonicalBase64url(respell(two, 0b10))).toBe(false);
  });

  it.each([
    ['a length of 1 mod 4', 'abcde'],
    ['padding', 'YQ=='],
    ['base64 (not url) characters', 'a+b/'],
    ['a space', 'ab cd'],
    ['non-ASCII', 'abé'],
  ])('refuses %s', (_case, segment) => {
    expect(isCanonicalBase64url(segment)).toBe(false);
  });

  it('checks every segment of a token, and allows an empty one', () => {
    expect(hasCanonicalSegments('eyJh.eyJi.')).toBe(true);
    expect(hasCanonicalSegments('eyJh.eyJi.YQ')).toBe(true);
    expect(hasCanonicalSegments('eyJh.eyJi.YR')).toBe(false);
    expect(hasCanonicalSegments('eyJhx.eyJi.YQ')).toBe(false);
  });
});

describe('verify() with a respelt token', () => {
  let issuer: TestIssuer;
  let auth: BearerAuth;
  beforeAll(async () => {
    issuer = await createTestIssuer();
    auth = createBearerAuth({ ...issuer.options, logger: silent });
  });
  afterAll(() => issuer.close());

  it('refuses a valid signature spelt with non-zero pad bits (token malleability)', async () => {
    const token = issuer.mint();
    await expect(auth.verify(token)).resolves.toMatchObject({ token });
    const [header, payload, signature] = token.split('.') as [string, string, string];
    // An RS256 signature is 256 bytes: 342 characters, the last carrying 4 pad bits.
    expect(signature.length % 4).toBe(2);
    for (const bits of [0b0001, 0b0010, 0b0100, 0b1000]) {
      const respelt = `${header}.${payload}.${respell(signature, bits)}`;
      expect(Buffer.from(respelt.split('.')[2]!, 'base64url')).toEqual(Buffer.from(signature, 'base64url'));
      await expect(auth.verify(respelt)).rejects.toMatchObject({ status: 401, reason: 'malformed_token' });
    }
  });
});

/** The rule compactHasDuplicateNames applies to each segment: more names in the text than keys in its parse. */
const hasDuplicateMemberNames = (json: string) => memberNameCount(Buffer.from(json)) !== ownKeyCount(JSON.parse(json));

describe('duplicate member names: names in the text against keys in the parse', () => {
  it.each([
    ['a repeated claim', '{"aud":"a","aud":"b"}'],
    ['a repeat spelt with an escape', '{"aud":"a","\\u0061ud":"b"}'],
    ['a repeat in a nested object', '{"cnf":{"jkt":"a","jkt":"b"}}'],
    ['a repeat in an object inside an array', '{"x":[1,{"a":1,"a":2}]}'],
    ['a repeat after nested values', '{"a":{"b":[{}]},"c":"}","a":0}'],
    ['a repeated __proto__', '{"__proto__":1,"__proto__":2}'],
  ])('finds %s', (_case, json) => {
    JSON.parse(json);
    expect(hasDuplicateMemberNames(json)).toBe(true);
  });

  it.each([
    ['distinct names', '{"iss":"i","aud":"a","exp":1}'],
    ['the same name in sibling objects', '{"a":{"x":1},"b":{"x":2}}'],
    ['the same name in an object and its parent', '{"x":{"x":{"x":1}}}'],
    ['names as string values', '{"a":"a","b":["a","a"],"c":"\\"a\\""}'],
    ['escaped quotes and backslashes in names', '{"a\\"":1,"a\\\\":2,"a":3}'],
    ['empty objects and arrays', '{"a":{},"b":[],"c":[{},{}],"d":{}}'],
    ['whitespace', ' { "a" : 1 ,\n "b" : { "a" : 2 } } '],
    ['a top-level array', '[{"a":1},{"a":1}]'],
  ])('passes %s', (_case, json) => {
    JSON.parse(json);
    expect(hasDuplicateMemberNames(json)).toBe(false);
  });

  it('agrees with JSON.parse on random objects without duplicates', () => {
    for (let i = 0; i < 200; i++) {
      const value = { a: i, nested: { a: [i, { b: String(i), c: { a: null } }] }, ['k' + i]: 'x"\\' };
      expect(hasDuplicateMemberNames(JSON.stringify(value))).toBe(false);
    }
  });

  it('counts names in UTF-8 text, multi-byte characters and escapes included', () => {
    expect(memberNameCount(Buffer.from('{"é":"ü\\"","日本":{"x":["{\\"y\\":1}"]}}'))).toBe(3);
    expect(ownKeyCount({ a: [{ b: 1, c: { d: null } }], e: 'f' })).toBe(5);
  });

  it('reads the header and claims of a compact token', () => {
    const seg = (json: string) => Buffer.from(json).toString('base64url');
    const check = (header: string, claims: string) =>
      compactHasDuplicateNames(`${seg(header)}.${seg(claims)}.sig`, JSON.parse(header), JSON.parse(claims));
    expect(check('{"alg":"RS256"}', '{"a":1}')).toBe(false);
    expect(check('{"alg":"none","alg":"RS256"}', '{"a":1}')).toBe(true);
    expect(check('{"alg":"RS256"}', '{"a":1,"a":2}')).toBe(true);
  });
});

describe('verify() with duplicate member names in a validly signed token', () => {
  let forge: Forge;
  let auth: BearerAuth;
  beforeAll(async () => {
    forge = await createForge();
    auth = createBearerAuth({ ...forge.options, logger: silent, env: {} });
  });
  afterAll(() => forge.close());

  it("accepts the forge's well-formed token (the control)", async () => {
    await expect(auth.verify(forge.sign(forge.header(), forge.claims()))).resolves.toMatchObject({ subject: 'forged' });
  });

  it.each([
    ['a second aud, the last one right', (forge) => forge.claims().replace('"aud":', '"aud":"other-api","aud":')],
    ['a second sub', (forge) => forge.claims(',"sub":"admin"')],
    ['a second exp', (forge) => forge.claims(',"exp":4102444800')],
  ] as Array<[string, (f: Forge) => string]>)('refuses claims with %s', async (_case, claims) => {
    const token = forge.sign(forge.header(), claims(forge));
    await expect(auth.verify(token)).rejects.toMatchObject({ status: 401, reason: 'malformed_token' });
  });

  it('refuses a header with a second alg or kid', async () => {
    const twoAlgs = forge.sign(`{"alg":"none","alg":"RS256","kid":"${forge.kid}"}`, forge.claims());
    const twoKids = forge.sign(`{"alg":"RS256","kid":"other","kid":"${forge.kid}"}`, forge.claims());
    await expect(auth.verify(twoAlgs)).rejects.toMatchObject({ status: 401, reason: 'malformed_token' });
    await expect(auth.verify(twoKids)).rejects.toMatchObject({ status: 401, reason: 'malformed_token', kid: forge.kid });
  });
});
