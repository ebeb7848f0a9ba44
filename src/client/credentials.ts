/**
 * `createClientCredentials()`: the caller's side. Tokens are cached per client and scope set for
 * the whole process, refreshed before expiry by one shared request, and sent by `fetch()`.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { originAndPath } from '../http/follow.js';
import { transportAllowed } from '../http/transport.js';
import { TokenUnavailableError } from './errors.js';
import { resolveClientOptions, type ClientCredentialsOptions, type ResolvedClientConfig } from './options.js';
import { requestToken, type AccessToken, type IssuedToken } from './token-endpoint.js';

export interface ClientCredentials {
  /** The validated, frozen configuration (the secret is not in it). */
  readonly config: ResolvedClientConfig;
  /** An access token with at least the expiry skew left: cached, or requested now. */
  getToken(): Promise<string>;
  /** The same, with its expiry and granted scopes. */
  getAccessToken(): Promise<AccessToken>;
  /**
   * The platform `fetch` with `Authorization: Bearer <token>` set (replacing any given). When the
   * API answers 401 with `error="invalid_token"`, it retries once with a new token, unless the
   * request body is a stream, which cannot be sent twice. Refuses (TypeError) to send the token
   * over plain http to a host other than loopback unless `allowInsecureHttp`.
   */
  fetch(input: string | URL | Request, init?: RequestInit): Promise<Response>;
  /**
   * Forgets the cached token, so the next call requests a new one. Given a token, only if it is
   * still the cached one (for callers that saw it refused by an API through another HTTP client).
   */
  invalidate(token?: string): void;
}

/** The token of one client and scope set, shared by every instance built for them. */
class TokenSlot {
  held: IssuedToken | undefined;
  inflight: Promise<IssuedToken> | undefined;
  /** After a failed refresh, the held token is served without a new attempt until then. */
  quietUntil = 0;
}

/** After a refresh fails while the held token is still valid, wait this long before trying again. */
const QUIET_AFTER_FAILURE_MS = 5000;

/**
 * Slots of the process: instances created with the same token URL, client, secret, scope set and
 * authentication method share one, so creating the client per request does not cost a token each.
 */
const slots = new LRUCache<string, TokenSlot>({ max: 256 });

function slotFor(config: ResolvedClientConfig, secret: string): TokenSlot {
  // Hashed so that no key in memory spells out the secret; the secret is in it so that a wrong
  // secret never shares the cache of a right one.
  const id = createHash('sha256')
    .update(JSON.stringify([config.tokenUrl, config.clientId, secret, [...config.scopes].sort(), config.authMethod]))
    .digest('base64url');
  let slot = slots.get(id);
  if (!slot) {
    slot = new TokenSlot();
    slots.set(id, slot);
  }
  return slot;
}

/** RFC 6750 §3: the API says the token itself is bad (expired, revoked, key rotated). */
const INVALID_TOKEN = /\berror\s*=\s*"?invalid_token\b/i;

/**
 * Builds a client-credentials token client. Options not given are read from `CYBERARK_*` env
 * vars. Throws a ConfigError at once when one is missing or wrong.
 *
 * ```ts
 * const orders = createClientCredentials({ tenantUrl, appId, clientId, clientSecret, scope: 'orders.read' });
 * const res = await orders.fetch('https://orders.internal/orders');
 * ```
 */
export function createClientCredentials(options?: ClientCredentialsOptions): ClientCredentials {
  const { config, clientSecret } = resolveClientOptions(options);
  const slot = slotFor(config, clientSecret);
  const { logger } = config;

  const refresh = (): Promise<IssuedToken> => {
    // Single flight: every caller waiting for a token shares this one request.
    slot.inflight ??= requestToken(config, clientSecret)
      .then((issued) => {
        slot.held = issued;
        slot.quietUntil = 0;
        return issued;
      })
      .finally(() => {
        slot.inflight = undefined;
      });
    return slot.inflight;
  };

  const getAccessToken = async (): Promise<AccessToken> => {
    const now = Date.now();
    const held = slot.held;
    if (held) {
      // Bounded so that a short-lived token is still used for half its life.
      const skewMs = Math.min(config.expirySkew * 1000, held.lifetimeMs / 2);
      if (now < held.expiresAtMs - skewMs) return held.value;
      if (now < held.expiresAtMs && now < slot.quietUntil) return held.value;
    }
    try {
      return (await refresh()).value;
    } catch (error) {
      // The issuer is down but the held token is still valid: use it to the end rather than fail.
      const current = slot.held;
      const at = Date.now();
      if (error instanceof TokenUnavailableError && current && at < current.expiresAtMs) {
        if (slot.quietUntil <= at) {
          slot.quietUntil = at + QUIET_AFTER_FAILURE_MS;
          logger.warn(
            { tokenUrl: config.tokenUrl, clientId: config.clientId, expiresInMs: current.expiresAtMs - at },
            'token refresh failed; using the current token until it expires',
          );
        }
        return current.value;
      }
      throw error;
    }
  };

  const invalidate = (token?: string): void => {
    if (token === undefined || slot.held?.value.token === token) {
      slot.held = undefined;
      slot.quietUntil = 0;
    }
  };

  const send = async (request: Request): Promise<{ response: Response; token: string }> => {
    const { token } = await getAccessToken();
    request.headers.set('authorization', `Bearer ${token}`);
    return { response: await fetch(request), token };
  };

  const authorizedFetch = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const request = new Request(input, init);
    const url = new URL(request.url);
    if (!transportAllowed(url, config.allowInsecureHttp)) {
      throw new TypeError(
        `cyberark-bearer: refusing to send a bearer token over plain http to ${originAndPath(url)}: use https (plain http is allowed only to loopback hosts, or with allowInsecureHttp)`,
      );
    }
    // A caller's stream can be read once; anything else is buffered by undici and can be cloned.
    const replayable = !(init?.body instanceof ReadableStream);
    const spare = replayable ? request.clone() : undefined;
    const { response, token } = await send(request);
    if (response.status !== 401 || !spare || !INVALID_TOKEN.test(response.headers.get('www-authenticate') ?? '')) {
      if (spare) spare.body?.cancel().catch(() => {});
      return response;
    }
    await response.body?.cancel().catch(() => {});
    logger.info(
      { tokenUrl: config.tokenUrl, clientId: config.clientId, method: request.method, url: originAndPath(url) },
      'API refused the token as invalid_token; retrying once with a new token',
    );
    invalidate(token);
    return (await send(spare)).response;
  };

  return Object.freeze({
    config,
    getToken: async () => (await getAccessToken()).token,
    getAccessToken,
    fetch: authorizedFetch,
    invalidate,
  });
}
