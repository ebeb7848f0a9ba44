/**
 * Introspectors are shared, like verifiers, between instances with equal settings: every route of
 * an app then draws on one cache and one set of flood bounds, however many guards it builds.
 */
import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { introspectionSecret } from '../config/introspection.js';
import type { ResolvedConfig } from '../config/options.js';
import { verificationFingerprint } from '../config/resolve.js';
import type { BearerLogger } from '../log.js';
import { DiscoveredEndpoint, fixedEndpoint } from './endpoint.js';
import { Introspector } from './introspector.js';

const introspectors = new LRUCache<string, Introspector>({ max: 64 });
const loggerIds = new WeakMap<BearerLogger, number>();
let nextLoggerId = 0;

/** The introspector for a config (undefined when introspection is not configured). `logger` is never a request's. */
export function introspectorFor(config: ResolvedConfig, logger: BearerLogger): Introspector | undefined {
  const { introspection } = config;
  if (introspection === undefined) return undefined;
  const clientSecret = introspectionSecret(introspection);
  const { issuers, perIssuer, maxTokenLength, tokenCache, keyCache, allowInsecureHttp } = config;
  let loggerId = loggerIds.get(logger);
  if (loggerId === undefined) loggerIds.set(logger, (loggerId = nextLoggerId++));
  // Hashed so that no key in memory spells out the secret; a wrong secret never shares a right one's cache.
  // The verifier's fingerprint holds every issuer's audiences, limits and claim rules (a function
  // by its identity): instances held to other rules never share answers accepted under these.
  const id = createHash('sha256')
    .update(JSON.stringify([loggerId, introspection, clientSecret, verificationFingerprint(config)]))
    .digest('base64url');
  let introspector = introspectors.get(id);
  if (!introspector) {
    const limits = { timeoutMs: keyCache.timeout * 1000, maxBytes: keyCache.maxBytes, allowInsecureHttp };
    introspector = new Introspector({
      introspection,
      clientSecret,
      // Without a URL, resolveConfig has checked that there is exactly one issuer, a URL.
      endpoint:
        introspection.url !== undefined
          ? fixedEndpoint(introspection.url)
          : new DiscoveredEndpoint(issuers[0]!, limits, keyCache.cooldown, logger),
      perIssuer,
      maxTokenLength,
      maxCached: tokenCache.max,
      timeout: keyCache.timeout,
      maxBytes: keyCache.maxBytes,
      cooldown: keyCache.cooldown,
      allowInsecureHttp,
      logger,
    });
    introspectors.set(id, introspector);
  }
  return introspector;
}
