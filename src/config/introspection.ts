/**
 * The `tokens` and `introspection` options resolved: which tokens go to the issuer's RFC 7662
 * endpoint, where it is, and the service user that asks. The secret is kept apart from the config.
 */
import { ConfigError } from '../errors.js';
import { checkUrl, clientIdOf, clientSecretOf, kindOf, number, ownProperties, reader, type Env, type Given } from './checks.js';
import { INTROSPECTION, OPTIONS, type ResolvedIntrospection, type TokenKinds } from './options.js';

/** The secret of each resolved introspection config: `auth.config` can be logged whole. */
const secrets = new WeakMap<ResolvedIntrospection, string>();

/** The client secret that goes with a resolved introspection config. */
export function introspectionSecret(config: ResolvedIntrospection): string {
  const secret = secrets.get(config);
  // Every ResolvedIntrospection is made below, with its secret.
  if (secret === undefined) throw new TypeError('cyberark-bearer: an introspection config without its secret');
  return secret;
}

export function tokenKindsOf({ option, value, spec }: Given<typeof OPTIONS.tokens>): TokenKinds {
  const kinds = value ?? spec.default;
  if (kinds !== 'jwt' && kinds !== 'opaque' && kinds !== 'any') {
    const shown = typeof kinds === 'string' ? JSON.stringify(kinds) : kindOf(kinds);
    throw new ConfigError(option, `must be "jwt", "opaque" or "any", got ${shown}`, spec.env);
  }
  return kinds;
}

/** Where the issuer is, for the default endpoint: CyberArk's path, or the single discovered issuer. */
export interface IntrospectionBase {
  /** `${tenantUrl}` and the URL-encoded app id, when both are configured. */
  readonly tenant: { readonly tenantUrl: string; readonly appId: string } | undefined;
  readonly issuers: readonly string[];
}

/**
 * The introspection settings, or undefined when neither the option nor one of its env vars is set.
 * `tokens` other than `'jwt'` need them.
 */
export function introspectionOf(
  given: Given,
  env: Env,
  tokens: TokenKinds,
  base: IntrospectionBase,
  allowInsecureHttp: boolean,
): ResolvedIntrospection | undefined {
  const { option, value } = given;
  if (value !== undefined && (typeof value !== 'object' || value === null || Array.isArray(value))) {
    throw new ConfigError(option, `must be an object, got ${kindOf(value)}`);
  }
  const fromEnv = Object.values(INTROSPECTION).some((spec) => 'env' in spec && (env[spec.env] ?? '').trim() !== '');
  if (value === undefined && !fromEnv) {
    if (tokens === 'jwt') return undefined;
    throw new ConfigError(
      'introspection.clientId',
      `is required with tokens: "${tokens}": opaque tokens are checked at the issuer's introspection endpoint by a service user allowed to introspect`,
      INTROSPECTION.clientId.env,
    );
  }
  const props = value === undefined ? (Object.create(null) as Record<string, unknown>) : ownProperties(value);
  const known = Object.keys(INTROSPECTION);
  for (const key of Object.keys(props)) {
    if (!known.includes(key)) throw new ConfigError(`${option}.${key}`, `is not an option (known: ${known.join(', ')})`);
  }
  const read = reader(props, env, INTROSPECTION);
  const at = <K extends keyof typeof INTROSPECTION>(key: K): Given<(typeof INTROSPECTION)[K]> => ({
    ...read(key),
    option: `${option}.${key}`,
  });
  const config: ResolvedIntrospection = Object.freeze({
    url: endpointOf(at('url'), base, allowInsecureHttp),
    clientId: clientIdOf(at('clientId'), 'the login of a CyberArk service user allowed to introspect tokens'),
    cacheTtl: number(at('cacheTtl')),
    negativeCacheTtl: number(at('negativeCacheTtl')),
    maxConcurrent: number(at('maxConcurrent')),
    newTokensPerSecond: number(at('newTokensPerSecond')),
  });
  secrets.set(config, clientSecretOf(props.clientSecret, env, 'introspection.clientSecret', INTROSPECTION.clientSecret.env));
  return config;
}

function endpointOf(given: Given, base: IntrospectionBase, allowInsecureHttp: boolean): string | undefined {
  if (given.value !== undefined) return checkUrl(given.value, given.option, given.spec.env, allowInsecureHttp).href;
  if (base.tenant) return `${base.tenant.tenantUrl}/OAuth2/Introspect/${base.tenant.appId}`;
  const [issuer, ...others] = base.issuers;
  let discoverable = issuer !== undefined && others.length === 0;
  try {
    if (discoverable) checkUrl(issuer, 'issuer', OPTIONS.issuer.env, allowInsecureHttp);
  } catch {
    discoverable = false;
  }
  if (!discoverable) {
    throw new ConfigError(
      given.option,
      'is required: without tenantUrl and appId it is read from the discovery document of a single issuer URL, and this configuration has none',
      given.spec.env,
    );
  }
  return undefined;
}
