/**
 * The compact serialization, read strictly: one spelling per token (canonical base64url).
 * The pure checks of src/jwt/compact.ts, then their effect through verify().
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { hasCanonicalSegments, isCanonicalBase64url } from '../src/jwt/compact.js';
import { silent } from './helpers.js';

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
