/**
 * Minting CyberArk-shaped access tokens, well-formed or deliberately not (alg none, odd headers).
 * Signed with node:crypto, not jose: mint() is synchronous, and jose will not sign malformed JWS.
 */
import { constants, createHmac, randomUUID, sign, type KeyObject } from 'node:crypto';
import type { KeyRing } from './keys.js';

export interface MintOptions {
  /** Sign with this key instead of the issuer's current one: a private KeyObject, or an HMAC secret. */
  key?: KeyObject | Uint8Array | string;
}

export type Mint = (claims?: Record<string, unknown>, header?: Record<string, unknown>, options?: MintOptions) => string;

/** What every token of one issuer says unless a test overrides it. */
export interface TokenDefaults {
  readonly issuer: string;
  readonly audience: string | readonly string[];
  readonly appId: string;
  /** Seconds from `iat` to `exp`. */
  readonly lifetime: number;
}

export type Claims = (overrides?: Record<string, unknown>) => Record<string, unknown>;

/**
 * Claims of a CyberArk client-credentials token of this issuer (one `sub` per issuer), with
 * `overrides` merged over them; `undefined` removes a claim.
 */
export function tokenClaims(defaults: TokenDefaults): Claims {
  const subject = randomUUID();
  return (overrides) => {
    const now = Math.floor(Date.now() / 1000);
    const base = {
      iss: defaults.issuer,
      aud: defaults.audience,
      sub: subject,
      unique_name: 'test-client@cyberark.cloud.0000',
      app_id: defaults.appId,
      iat: now,
      exp: now + defaults.lifetime,
    };
    return withoutUndefined(base, overrides);
  };
}

/** Signs `claimsOf(claims)`; the header defaults to `{ alg: 'RS256', kid, typ }` with the current key. */
export function minter(claimsOf: Claims, keys: KeyRing): Mint {
  return (claims, header, { key } = {}) => {
    const payload = claimsOf(claims);
    const protectedHeader = withoutUndefined({ alg: 'RS256', kid: keys.current.kid, typ: 'JWT' }, header);
    const input = `${b64url(JSON.stringify(protectedHeader))}.${b64url(JSON.stringify(payload))}`;
    return `${input}.${b64url(signature(signingAlg(protectedHeader.alg), input, key ?? keys.current.privateKey))}`;
  };
}

const b64url = (data: Buffer | string): string => Buffer.from(data).toString('base64url');

function withoutUndefined(
  base: Record<string, unknown>,
  overrides: Record<string, unknown> | undefined,
): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base, ...overrides };
  for (const key of Object.keys(out)) if (out[key] === undefined) delete out[key];
  return out;
}

/** The algorithm a header's `alg` names; an array one (`['RS256']`) signs with its member, so that
 * a test can send a well-signed token whose header is odd. */
function signingAlg(alg: unknown): string {
  if (alg === undefined || alg === null) return 'none';
  if (Array.isArray(alg)) return alg.join(',');
  return typeof alg === 'string' ? alg : JSON.stringify(alg);
}

const HASH: Record<string, string> = { '256': 'sha256', '384': 'sha384', '512': 'sha512' };

/** JWS signature of `input` for `alg` (RFC 7518 §3). */
function signature(alg: string, input: string, key: KeyObject | Uint8Array | string): Buffer {
  if (alg.toLowerCase() === 'none') return Buffer.alloc(0);
  const family = alg.slice(0, 2);
  const hash = HASH[alg.slice(2)];
  if (family === 'HS' && hash) {
    const secret = typeof key === 'string' || key instanceof Uint8Array ? key : key.export();
    return createHmac(hash, secret).update(input).digest();
  }
  if (typeof key === 'string' || key instanceof Uint8Array) throw new TypeError(`mint: ${alg} needs a private KeyObject`);
  const data = Buffer.from(input);
  if (family === 'RS' && hash) return sign(hash, data, key);
  if (family === 'PS' && hash) {
    return sign(hash, data, { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  }
  if (family === 'ES' && hash) return sign(hash, data, { key, dsaEncoding: 'ieee-p1363' });
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, data, key);
  throw new TypeError(`mint: cannot sign with alg ${JSON.stringify(alg)}`);
}
