/**
 * The issuer's confidential clients (CyberArk service users): who may authenticate, with which
 * secret and scopes, and which are disabled, as an admin disables a service user.
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';

export interface TestClient {
  /** The service user's login, e.g. `svc-reporting@cyberark.cloud.1234`. */
  readonly clientId: string;
  readonly clientSecret: string;
  /** Scopes this client may request; a request without `scope` gets all of them. Default none. */
  readonly scopes?: readonly string[];
  /** The `sub` of its tokens. Default: a random UUID. */
  readonly subject?: string;
  /** Extra claims put in its tokens (as a CyberArk claims script would). */
  readonly claims?: Readonly<Record<string, unknown>>;
}

export type Client = TestClient & { readonly subject: string };

/** A random client secret, for tests that register their own clients. */
export function randomSecret(): string {
  return randomBytes(24).toString('base64url');
}

export class Clients {
  readonly #byId = new Map<string, Client>();
  /** Any client id, registered or not: tokens minted for an unregistered one can be cut off too. */
  readonly #disabled = new Set<string>();

  add(client: TestClient): void {
    if (!client.clientId || !client.clientSecret) {
      throw new TypeError('createTestIssuer: a client needs clientId and clientSecret');
    }
    this.#byId.set(client.clientId, { ...client, subject: client.subject ?? randomUUID() });
  }

  /** The enabled client with this id and secret, `'disabled'`, or undefined when unknown or the secret is wrong. */
  authenticate(clientId: string, secret: string): Client | 'disabled' | undefined {
    const client = this.#byId.get(clientId);
    if (!client || !safeEqual(client.clientSecret, secret)) return undefined;
    return this.#disabled.has(clientId) ? 'disabled' : client;
  }

  setDisabled(clientId: string, disabled: boolean): void {
    if (disabled) this.#disabled.add(clientId);
    else this.#disabled.delete(clientId);
  }

  isDisabled(clientId: string): boolean {
    return this.#disabled.has(clientId);
  }

  /** Every scope some client may request, in registration order. */
  scopes(): string[] {
    return [...new Set([...this.#byId.values()].flatMap((c) => c.scopes ?? []))];
  }
}

function safeEqual(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}
