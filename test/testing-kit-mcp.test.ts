/**
 * The test kit serves what an MCP client's discovery needs, checked with the official MCP SDK's
 * own client functions over real HTTP: RFC 8414 and OpenID metadata found from the issuer URL,
 * and a client-credentials token for the RFC 8707 resource the client asks for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt } from 'jose';
import {
  auth,
  buildDiscoveryUrls,
  discoverAuthorizationServerMetadata,
  fetchToken,
} from '@modelcontextprotocol/sdk/client/auth.js';
import { ClientCredentialsProvider } from '@modelcontextprotocol/sdk/client/auth-extensions.js';
import { OAuthMetadataSchema, OpenIdProviderDiscoveryMetadataSchema } from '@modelcontextprotocol/sdk/shared/auth.js';
import { InvalidTargetError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { createBearerAuth } from 'cyberark-bearer';
import { createTestIssuer, randomSecret, type TestIssuer } from 'cyberark-bearer/testing';
import { routed, scriptedServer, type ScriptedServer } from './support/scripted-server.js';
import { silent } from './support/logger.js';

const MCP_CLIENT = {
  clientId: 'svc-mcp@cyberark.cloud.1234',
  clientSecret: randomSecret(),
  scopes: ['orders.read', 'orders.write'],
};
const REPORTING = {
  clientId: 'svc-reporting@cyberark.cloud.1234',
  clientSecret: randomSecret(),
  scopes: ['orders.read', 'reports.read'],
};

let issuer: TestIssuer;
/** A protected resource that publishes RFC 9728 metadata naming the kit as its authorization server. */
let mcpServer: ScriptedServer;
let resource: string;

beforeAll(async () => {
  mcpServer = await scriptedServer([
    routed({
      '/.well-known/oauth-protected-resource/mcp': (_req, res) => {
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(JSON.stringify({ resource, authorization_servers: [issuer.issuer] }));
      },
    }),
  ]);
  resource = `${mcpServer.url}/mcp`;
  issuer = await createTestIssuer({
    appId: 'orders-api',
    audience: ['orders-audience', resource],
    clients: [MCP_CLIENT, REPORTING],
  });
});
afterAll(async () => {
  await issuer.close();
  await mcpServer.close();
});

const provider = (client: { clientId: string; clientSecret: string } = MCP_CLIENT, scope?: string) =>
  new ClientCredentialsProvider({ ...client, expectedIssuer: issuer.issuer, ...(scope ? { scope } : {}) });

async function json(url: string): Promise<Record<string, unknown>> {
  const res = await fetch(url);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  return (await res.json()) as Record<string, unknown>;
}

describe('authorization server metadata, as the MCP SDK discovers it', () => {
  it('is found by discoverAuthorizationServerMetadata from the issuer URL, at the RFC 8414 path-inserted URL', async () => {
    expect(buildDiscoveryUrls(issuer.issuer)[0]!.url.href).toBe(
      `${issuer.url}/.well-known/oauth-authorization-server/orders-api`,
    );
    issuer.resetCounters();
    const metadata = await discoverAuthorizationServerMetadata(issuer.issuer);
    expect(issuer.discoveryFetches).toBe(1);
    expect(metadata).toEqual({
      issuer: issuer.issuer,
      authorization_endpoint: `${issuer.url}/OAuth2/Authorize/orders-api`,
      token_endpoint: issuer.tokenUrl,
      jwks_uri: issuer.jwksUri,
      scopes_supported: ['orders.read', 'orders.write', 'reports.read'],
      response_types_supported: ['code'],
      grant_types_supported: ['client_credentials'],
      token_endpoint_auth_methods_supported: ['client_secret_post', 'client_secret_basic'],
      introspection_endpoint: issuer.introspectionUrl,
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      revocation_endpoint: issuer.revocationUrl,
      revocation_endpoint_auth_methods_supported: ['client_secret_basic'],
    });
    expect(metadata!.issuer).toBe(`${issuer.url}/orders-api/`);
  });

  it('serves both documents so that they parse against the SDK schemas', async () => {
    const rfc8414 = await json(`${issuer.url}/.well-known/oauth-authorization-server/orders-api`);
    const openid = await json(issuer.discoveryUrl);
    expect(OAuthMetadataSchema.safeParse(rfc8414).error).toBeUndefined();
    expect(OpenIdProviderDiscoveryMetadataSchema.safeParse(openid).error).toBeUndefined();
    expect(OAuthMetadataSchema.safeParse(openid).error).toBeUndefined();
    expect(openid).toEqual({
      ...rfc8414,
      subject_types_supported: ['public'],
      id_token_signing_alg_values_supported: ['RS256'],
    });
  });

  it('lists the scopes of clients added later', async () => {
    const later = await createTestIssuer({ appId: 'later-app' });
    try {
      expect((await json(later.discoveryUrl)).scopes_supported).toBeUndefined();
      later.addClient({ clientId: 'a', clientSecret: randomSecret(), scopes: ['b.read', 'a.read'] });
      later.addClient({ clientId: 'c', clientSecret: randomSecret(), scopes: ['a.read', 'c.write'] });
      expect((await json(`${later.url}/.well-known/oauth-authorization-server/later-app`)).scopes_supported).toEqual([
        'b.read',
        'a.read',
        'c.write',
      ]);
    } finally {
      await later.close();
    }
  });

  it('counts the RFC 8414 document as discovery and lets a discovery fault break it', async () => {
    issuer.resetCounters();
    issuer.setFault('discovery', 'error');
    try {
      expect((await fetch(`${issuer.url}/.well-known/oauth-authorization-server/orders-api`)).status).toBe(500);
      await expect(discoverAuthorizationServerMetadata(issuer.issuer)).rejects.toThrow(/^HTTP 500 trying to load OAuth metadata/);
    } finally {
      issuer.setFault('discovery', null);
    }
    expect(issuer.discoveryFetches).toBe(2);
  });

  it('answers the authorization endpoint with unsupported_response_type: no interactive sign-in', async () => {
    const res = await fetch(`${issuer.url}/OAuth2/Authorize/orders-api?response_type=code&client_id=x`);
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ error: 'unsupported_response_type' });
  });
});

describe('RFC 8707 resource at the token endpoint', () => {
  it("gives the SDK's ClientCredentialsProvider and fetchToken a token whose aud is the resource", async () => {
    const metadata = await discoverAuthorizationServerMetadata(issuer.issuer);
    const tokens = await fetchToken(provider(MCP_CLIENT, 'orders.read'), issuer.issuer, {
      metadata: metadata!,
      resource: new URL(resource),
    });
    expect(tokens.scope).toBe('orders.read');
    expect(decodeJwt(tokens.access_token).aud).toBe(resource);
    const verifier = createBearerAuth({ ...issuer.options, audience: resource, logger: silent });
    await expect(verifier.verify(tokens.access_token)).resolves.toMatchObject({ clientId: MCP_CLIENT.clientId });
  });

  it("takes the SDK's auth() from the resource's URL to a token for that resource", async () => {
    const client = provider();
    expect(await auth(client, { serverUrl: resource })).toBe('AUTHORIZED');
    expect(decodeJwt(client.tokens()!.access_token)).toMatchObject({
      aud: resource,
      iss: issuer.issuer,
      scope: 'orders.read orders.write',
    });
  });

  it('refuses a resource that is not one of its audiences with invalid_target', async () => {
    const metadata = await discoverAuthorizationServerMetadata(issuer.issuer);
    const request = fetchToken(provider(), issuer.issuer, { metadata: metadata!, resource: `${mcpServer.url}/other` });
    await expect(request).rejects.toBeInstanceOf(InvalidTargetError);
  });

  const tokenRequest = async (resources: string[], issuerUnderTest = issuer) => {
    const body = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: REPORTING.clientId,
      client_secret: REPORTING.clientSecret,
    });
    for (const r of resources) body.append('resource', r);
    const res = await fetch(issuerUnderTest.tokenUrl, { method: 'POST', body });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };

  it.each([
    ['a relative reference', '/mcp'],
    ['a URI with a fragment', 'RESOURCE#part'],
    ['a non-URI audience', 'orders-audience'],
    ['the resource in another letter case', 'RESOURCE-UPPER'],
    ['an empty value', ''],
  ])('refuses %s with invalid_target', async (_case, value) => {
    const requested = value.replace('RESOURCE-UPPER', resource.toUpperCase()).replace('RESOURCE', resource);
    const res = await tokenRequest([requested]);
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ error: 'invalid_target' });
    expect(res.body.access_token).toBeUndefined();
  });

  it('keeps every audience without a resource, and narrows to the resources asked for', async () => {
    const none = await tokenRequest([]);
    expect(decodeJwt(none.body.access_token as string).aud).toEqual(['orders-audience', resource]);
    const one = await tokenRequest([resource]);
    expect(decodeJwt(one.body.access_token as string).aud).toBe(resource);
  });

  it('gives a token for several resources when asked for several of its audiences', async () => {
    const two = await createTestIssuer({ audience: ['https://a.example/mcp', 'https://b.example/api'], clients: [REPORTING] });
    try {
      const res = await tokenRequest(['https://b.example/api', 'https://a.example/mcp', 'https://b.example/api'], two);
      expect(decodeJwt(res.body.access_token as string).aud).toEqual(['https://b.example/api', 'https://a.example/mcp']);
    } finally {
      await two.close();
    }
  });

  it('refuses an unknown resourceIndicators setting', async () => {
    // @ts-expect-error: not one of the settings
    await expect(createTestIssuer({ resourceIndicators: 'strict' })).rejects.toThrow(/resourceIndicators/);
  });

  it("ignores the parameter with resourceIndicators: 'ignore', as a server without RFC 8707 does", async () => {
    const ignoring = await createTestIssuer({ audience: 'orders-audience', clients: [REPORTING], resourceIndicators: 'ignore' });
    try {
      const res = await tokenRequest(['https://elsewhere.example/mcp'], ignoring);
      expect(res.status).toBe(200);
      expect(decodeJwt(res.body.access_token as string).aud).toBe('orders-audience');
    } finally {
      await ignoring.close();
    }
  });
});
