/**
 * The protected resource's metadata (RFC 9728): where it is published, built from the resource
 * identifier, and what it says, from the configuration and the options of `protectedResource()`.
 */
import { hasControlCharacter, kindOf, ownOptions, type OptionSpec } from '../config/checks.js';
import type { ResolvedConfig } from '../config/options.js';
import { ConfigError } from '../errors.js';
import { checkScopes } from '../scopes.js';

/** What the metadata says besides what the configuration already knows. All optional. */
export interface ProtectedResourceOptions {
  /** `scopes_supported`: the scopes clients may ask for (MCP clients ask for these when a 401 names none). */
  scopesSupported?: readonly string[] | undefined;
  /** `resource_name`: a name for people, e.g. `Orders API`. */
  resourceName?: string | undefined;
  /** `resource_documentation`: a URL of the documentation for developers. */
  resourceDocumentation?: string | undefined;
  /** `resource_policy_uri`: a URL of the policy on how clients may use the data. */
  resourcePolicyUri?: string | undefined;
  /** `resource_tos_uri`: a URL of the terms of service. */
  resourceTosUri?: string | undefined;
}

const PROTECTED_RESOURCE_OPTIONS = {
  scopesSupported: {},
  resourceName: {},
  resourceDocumentation: {},
  resourcePolicyUri: {},
  resourceTosUri: {},
} as const satisfies Record<keyof ProtectedResourceOptions, OptionSpec>;

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** `https://host/path` → the path of `https://host/.well-known/oauth-protected-resource/path` (RFC 9728 §3.1). */
function insertedPath(resource: string): string {
  const { pathname } = new URL(resource);
  return pathname === '/' ? WELL_KNOWN : `${WELL_KNOWN}${pathname}`;
}

/** The URL of the metadata of a (canonical) resource identifier: what challenges name. */
export function resourceMetadataUrl(resource: string): string {
  return `${new URL(resource).origin}${insertedPath(resource)}`;
}

/**
 * The request paths the metadata is served at: the path-inserted one, and the root form, which
 * MCP clients try last when they have neither the header nor the path-inserted document.
 */
export function metadataPaths(resource: string): readonly string[] {
  return Object.freeze([...new Set([insertedPath(resource), WELL_KNOWN])]);
}

/** The metadata document as JSON. Throws a ConfigError for a wrong option, or with no `resource`. */
export function metadataDocument(config: ResolvedConfig, given: ProtectedResourceOptions = {}): string {
  if (config.resource === undefined) {
    throw new ConfigError(
      'resource',
      'is required by protectedResource(): set it to the URL clients connect to, e.g. https://api.example.com/mcp',
      'CYBERARK_RESOURCE',
    );
  }
  const options = ownOptions(given, PROTECTED_RESOURCE_OPTIONS, 'protectedResource()');
  const bearerMethods = ['header', ...(config.allowBodyToken ? ['body'] : []), ...(config.allowQueryToken ? ['query'] : [])];
  const document: Record<string, unknown> = {
    resource: config.resource,
    authorization_servers: [...config.issuers],
    bearer_methods_supported: bearerMethods,
  };
  const scopes = options.scopesSupported;
  if (scopes !== undefined) {
    if (!Array.isArray(scopes) || scopes.length === 0) {
      throw new ConfigError('scopesSupported', `must be a non-empty array of scopes, got ${kindOf(scopes)}`);
    }
    document.scopes_supported = checkScopes(scopes, 'scopesSupported');
  }
  const name = options.resourceName;
  if (name !== undefined) {
    if (typeof name !== 'string' || name.trim() === '' || hasControlCharacter(name)) {
      throw new ConfigError('resourceName', `must be a non-empty string without control characters, got ${kindOf(name)}`);
    }
    document.resource_name = name;
  }
  const links = [
    ['resourceDocumentation', 'resource_documentation'],
    ['resourcePolicyUri', 'resource_policy_uri'],
    ['resourceTosUri', 'resource_tos_uri'],
  ] as const;
  for (const [option, field] of links) {
    if (options[option] !== undefined) document[field] = webUrl(options[option], option);
  }
  return JSON.stringify(document);
}

/** A page for people to read: an absolute http(s) URL. */
function webUrl(value: unknown, option: string): string {
  let url: URL | undefined;
  try {
    url = typeof value === 'string' ? new URL(value) : undefined;
  } catch {
    // Refused below.
  }
  if (url === undefined || (url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password) {
    throw new ConfigError(
      option,
      `must be an absolute https URL, got ${kindOf(value)}${typeof value === 'string' ? ` ${JSON.stringify(value)}` : ''}`,
    );
  }
  return url.href;
}
