/**
 * The issuer's signing keys: the current RSA key that signs, and the published set (its JWKS)
 * that keeps the previous keys until a test rotates them out or removes them.
 */
import { createHash, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';

export interface SigningKey {
  readonly kid: string;
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  readonly jwk: JsonWebKey;
}

// node:crypto, not jose: jose makes and exports keys only asynchronously; rotateKey() is synchronous.
function newRsaKey(): SigningKey {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  // RFC 7638 thumbprint as key id: members in lexicographic order.
  const kid = createHash('sha256')
    .update(JSON.stringify({ e, kty: 'RSA', n }))
    .digest('base64url');
  return { kid, privateKey, publicKey, jwk: { kty: 'RSA', n, e, kid, use: 'sig', alg: 'RS256' } };
}

export class KeyRing {
  #current = newRsaKey();
  readonly #published = new Map<string, SigningKey>([[this.#current.kid, this.#current]]);

  get current(): SigningKey {
    return this.#current;
  }

  get kids(): string[] {
    return [...this.#published.keys()];
  }

  /** The public key published under `kid`, if any. */
  publicKey(kid: string): KeyObject | undefined {
    return this.#published.get(kid)?.publicKey;
  }

  jwks(): { keys: JsonWebKey[] } {
    return { keys: [...this.#published.values()].map((k) => ({ ...k.jwk })) };
  }

  /** A new key signs from now on; the previous one stays published unless `keepPrevious` is false. */
  rotate(keepPrevious: boolean): string {
    const previous = this.#current;
    this.#current = newRsaKey();
    this.#published.set(this.#current.kid, this.#current);
    if (!keepPrevious) this.#published.delete(previous.kid);
    return this.#current.kid;
  }

  remove(kid: string): void {
    this.#published.delete(kid);
  }
}
