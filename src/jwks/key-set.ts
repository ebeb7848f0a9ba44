/**
 * An immutable, parsed JSON Web Key Set (RFC 7517): only signature keys whose type fits an
 * allowed algorithm, imported once, and the rule that picks the key for a token header.
 */
import { createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import { importJWK, type CryptoKey, type JWK } from 'jose';
import type { Algorithm } from '../config/options.js';
import type { RefusalReason } from '../errors.js';

type KeyType = 'RSA' | 'EC' | 'OKP';

/** One published verification key: parsed once, imported for jose once per algorithm. */
export class PublicKeyEntry {
  readonly kid: string | undefined;
  readonly kty: KeyType;
  readonly alg: string | undefined;
  readonly crv: string | undefined;
  /** Node's view of the key, for equality checks between key sets. */
  readonly key: KeyObject;
  readonly #forAlgorithm = new Map<string, Promise<CryptoKey>>();

  constructor(kid: string | undefined, kty: KeyType, alg: string | undefined, crv: string | undefined, key: KeyObject) {
    this.kid = kid;
    this.kty = kty;
    this.alg = alg;
    this.crv = crv;
    this.key = key;
  }

  /**
   * The key as a WebCrypto CryptoKey bound to `alg`. jose verifies with CryptoKeys; handing it a
   * KeyObject makes it convert on every call on Node 20, which costs more than the RSA check.
   */
  cryptoKey(alg: string): Promise<CryptoKey> {
    let imported = this.#forAlgorithm.get(alg);
    if (imported === undefined) {
      imported = importJWK(this.key.export({ format: 'jwk' }) as JWK, alg) as Promise<CryptoKey>;
      this.#forAlgorithm.set(alg, imported);
    }
    return imported;
  }
}

/** Which key type (and curve) each algorithm needs. */
const FITS: Readonly<Record<Algorithm, { kty: KeyType; crv?: string }>> = {
  RS256: { kty: 'RSA' },
  RS384: { kty: 'RSA' },
  RS512: { kty: 'RSA' },
  PS256: { kty: 'RSA' },
  PS384: { kty: 'RSA' },
  PS512: { kty: 'RSA' },
  ES256: { kty: 'EC', crv: 'P-256' },
  ES384: { kty: 'EC', crv: 'P-384' },
  ES512: { kty: 'EC', crv: 'P-521' },
  EdDSA: { kty: 'OKP', crv: 'Ed25519' },
  Ed25519: { kty: 'OKP', crv: 'Ed25519' },
};

function fits(entry: PublicKeyEntry, alg: string): boolean {
  const need = FITS[alg as Algorithm];
  if (!need || need.kty !== entry.kty) return false;
  if (need.crv !== undefined && need.crv !== entry.crv) return false;
  return entry.alg === undefined || entry.alg === alg;
}

export type ParsedKeySet =
  { readonly ok: true; readonly set: KeySet; readonly skipped: number } | { readonly ok: false; readonly problem: string };

export class KeySet {
  readonly #byKid: ReadonlyMap<string, readonly PublicKeyEntry[]>;
  readonly #all: readonly PublicKeyEntry[];

  private constructor(entries: readonly PublicKeyEntry[]) {
    this.#all = entries;
    const byKid = new Map<string, PublicKeyEntry[]>();
    for (const entry of entries) {
      if (entry.kid === undefined) continue;
      const list = byKid.get(entry.kid);
      if (list) list.push(entry);
      else byKid.set(entry.kid, [entry]);
    }
    this.#byKid = byKid;
  }

  get size(): number {
    return this.#all.length;
  }

  /** Key ids in the set, for logs and readiness reports (key ids are public). */
  get kids(): string[] {
    return [...this.#byKid.keys()];
  }

  /**
   * Keeps the usable keys of a JWKS document: `use` absent or `sig`, `key_ops` (if any) allowing
   * `verify`, a type fitting one of `algorithms`, RSA moduli of 2048 bits or more.
   * `problem` (ours, safe to log) says why a document is not a key set or holds no usable key.
   */
  static parse(document: unknown, algorithms: readonly Algorithm[]): ParsedKeySet {
    const keys = (document as { keys?: unknown } | null)?.keys;
    if (typeof document !== 'object' || document === null || !Array.isArray(keys)) {
      return { ok: false, problem: 'response is not a JSON Web Key Set (no "keys" array)' };
    }
    const entries: PublicKeyEntry[] = [];
    let skipped = 0;
    for (const jwk of keys as unknown[]) {
      const entry = toEntry(jwk);
      // Kept only if some allowed algorithm could select it (the rule `select` applies).
      if (entry && algorithms.some((alg) => fits(entry, alg))) entries.push(entry);
      else skipped++;
    }
    if (entries.length === 0) {
      return { ok: false, problem: `key set has no usable signing key for ${algorithms.join(', ')}` };
    }
    return { ok: true, set: new KeySet(entries), skipped };
  }

  /** True when this set still holds `key` for that header: a cached verification stays valid. */
  stillHolds(kid: unknown, alg: string, key: KeyObject): boolean {
    const found = this.select(kid, alg);
    return typeof found !== 'string' && (found.key === key || found.key.equals(key));
  }

  /**
   * The key for a token header, or why there is none. A `kid` selects among keys with that id;
   * without one, the set must hold exactly one key fitting the algorithm.
   */
  select(kid: unknown, alg: string): PublicKeyEntry | RefusalReason {
    if (kid !== undefined) {
      if (typeof kid !== 'string') return 'malformed_token';
      const candidates = this.#byKid.get(kid);
      if (!candidates) return 'unknown_key';
      for (const entry of candidates) if (fits(entry, alg)) return entry;
      return 'key_mismatch';
    }
    let found: PublicKeyEntry | undefined;
    for (const entry of this.#all) {
      if (!fits(entry, alg)) continue;
      if (found) return 'ambiguous_key';
      found = entry;
    }
    return found ?? 'unknown_key';
  }
}

function toEntry(jwk: unknown): PublicKeyEntry | undefined {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) return undefined;
  const { kty, use, key_ops: ops, kid, alg, crv } = jwk as Record<string, unknown>;
  if (kty !== 'RSA' && kty !== 'EC' && kty !== 'OKP') return undefined;
  if (use !== undefined && use !== 'sig') return undefined;
  if (ops !== undefined && !(Array.isArray(ops) && ops.includes('verify'))) return undefined;
  if (kid !== undefined && typeof kid !== 'string') return undefined;
  if (alg !== undefined && typeof alg !== 'string') return undefined;
  let key: KeyObject;
  try {
    // Only public parameters are read; a JWK carrying private ones still yields the public key.
    const { d: _d, p: _p, q: _q, dp: _dp, dq: _dq, qi: _qi, oth: _oth, ...pub } = jwk as Record<string, unknown>;
    key = createPublicKey({ key: pub as JsonWebKey, format: 'jwk' });
  } catch {
    return undefined;
  }
  if (kty === 'RSA' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048) return undefined;
  return new PublicKeyEntry(kid, kty, alg, typeof crv === 'string' ? crv : undefined, key);
}
