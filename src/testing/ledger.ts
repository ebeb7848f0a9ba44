/**
 * What the issuer knows of the tokens it issued, to answer RFC 7662 introspection: the claims of
 * its opaque tokens, the JWTs its published keys signed, revocations and disabled clients.
 */
import { randomBytes, verify } from 'node:crypto';
import type { Clients } from './clients.js';
import type { KeyRing } from './keys.js';

export interface MintOpaqueOptions {
  /** Register this string as the token instead of a random one, to test other formats. */
  token?: string;
}

export class Ledger {
  readonly #opaque = new Map<string, Record<string, unknown>>();
  readonly #revoked = new Set<string>();
  readonly #keys: KeyRing;
  readonly #clients: Clients;

  constructor(keys: KeyRing, clients: Clients) {
    this.#keys = keys;
    this.#clients = clients;
  }

  /**
   * A new opaque token standing for `claims`. CyberArk does not document its opaque format; this
   * one is 256 random bits in base64url (43 characters, never a `.`).
   */
  register(claims: Record<string, unknown>, { token = randomBytes(32).toString('base64url') }: MintOpaqueOptions = {}): string {
    if (typeof token !== 'string' || token === '') throw new TypeError('mintOpaque: token must be a non-empty string');
    this.#opaque.set(token, claims);
    return token;
  }

  /** Revokes a token this issuer issued; any other string is ignored (and not remembered). */
  revoke(token: string): void {
    if (this.#opaque.has(token) || signedClaims(token, this.#keys)) this.#revoked.add(token);
  }

  /** The RFC 7662 §2.2 answer for `token` now: `{ active: false }` and nothing else when inactive. */
  introspect(token: string): Record<string, unknown> {
    const claims = this.#activeClaims(token);
    if (!claims) return { active: false };
    const clientId = clientOf(claims);
    // The token's claims, with the members RFC 7662 defines differently put right; fromEntries, not
    // assignment, so that a `__proto__` claim stays a plain member.
    return Object.fromEntries([
      ['active', true],
      ...Object.entries(claims),
      ['active', true],
      ['token_type', 'Bearer'],
      ...(clientId === undefined ? [] : [['client_id', clientId]]),
      ...(typeof claims.unique_name === 'string' ? [['username', claims.unique_name]] : []),
    ]) as Record<string, unknown>;
  }

  #activeClaims(token: string): Record<string, unknown> | undefined {
    if (this.#revoked.has(token)) return undefined;
    const claims = this.#opaque.get(token) ?? signedClaims(token, this.#keys);
    if (!claims) return undefined;
    const now = Date.now() / 1000;
    if (typeof claims.exp === 'number' && claims.exp <= now) return undefined;
    if (typeof claims.nbf === 'number' && claims.nbf > now) return undefined;
    const clientId = clientOf(claims);
    return clientId !== undefined && this.#clients.isDisabled(clientId) ? undefined : claims;
  }
}

/** The calling client, in the order the verifier reads it. */
function clientOf(claims: Record<string, unknown>): string | undefined {
  const found = [claims.client_id, claims.azp, claims.unique_name, claims.sub].find((v) => typeof v === 'string' && v !== '');
  return found as string | undefined;
}

/** The claims of an RS256 JWS signed by a key the issuer still publishes, else undefined. */
function signedClaims(token: string, keys: KeyRing): Record<string, unknown> | undefined {
  const parts = token.split('.');
  if (parts.length !== 3) return undefined;
  const [header, payload, signature] = parts as [string, string, string];
  try {
    const { alg, kid } = JSON.parse(Buffer.from(header, 'base64url').toString('utf8')) as { alg?: unknown; kid?: unknown };
    const key = alg === 'RS256' && typeof kid === 'string' ? keys.publicKey(kid) : undefined;
    if (!key || !verify('sha256', Buffer.from(`${header}.${payload}`), key, Buffer.from(signature, 'base64url')))
      return undefined;
    const claims: unknown = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    return typeof claims === 'object' && claims !== null && !Array.isArray(claims)
      ? (claims as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}
