/**
 * The `resource` option: validated once, and, with no `audience`, the audience tokens must name,
 * compared as RFC 8707 and MCP say (scheme and host in any case, no fragment; the path exactly).
 * Tokens come from the test kit's issuer, keys over HTTP.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBearerAuth, type BearerAuthOptions } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { configError as configErrorOf } from './support/config.js';
import { silent } from './support/logger.js';

const RESOURCE = 'https://api.example.com/mcp';

let issuer: TestIssuer;
beforeAll(async () => {
  issuer = await createTestIssuer({ appId: 'orders-api', audience: RESOURCE });
});
afterAll(() => issuer.close());

/** Trusts the kit's issuer; `env: {}` so that no CYBERARK_* variable of the machine counts. */
const trust = (extra: BearerAuthOptions) =>
  createBearerAuth({ issuer: issuer.issuer, jwksUri: issuer.jwksUri, logger: silent, env: {}, ...extra });

const configError = (options: BearerAuthOptions) => configErrorOf(() => trust(options));

describe('the resource option', () => {
  it('becomes the audience, in canonical form, when no audience is given', () => {
    const auth = trust({ resource: 'HTTPS://API.Example.com:443/mcp' });
    expect(auth.config.resource).toBe(RESOURCE);
    expect(auth.config.audiences).toEqual([RESOURCE]);
    expect(auth.config.perIssuer[0]!.audienceComparison).toBe('resource');
    expect(auth.resourceMetadataUrl).toBe('https://api.example.com/.well-known/oauth-protected-resource/mcp');
  });

  it('is read from CYBERARK_RESOURCE', () => {
    const auth = createBearerAuth({
      logger: silent,
      env: { CYBERARK_ISSUER: issuer.issuer, CYBERARK_JWKS_URI: issuer.jwksUri, CYBERARK_RESOURCE: RESOURCE },
    });
    expect(auth.config.resource).toBe(RESOURCE);
  });

  it('leaves an audience that is given as it is, compared exactly', () => {
    const auth = trust({ resource: RESOURCE, audience: 'orders-api' });
    expect(auth.config.audiences).toEqual(['orders-api']);
    expect(auth.config.perIssuer[0]!.audienceComparison).toBe('exact');
  });

  it('is the audience of an issuers entry that names none; an entry with its own keeps it', async () => {
    const auth = createBearerAuth({
      resource: RESOURCE,
      issuers: [
        { issuer: issuer.issuer, jwksUri: issuer.jwksUri },
        { issuer: 'https://other.example/app/', jwksUri: issuer.jwksUri, audience: 'partner-orders' },
      ],
      logger: silent,
      env: {},
    });
    expect(auth.config.perIssuer.map((i) => [i.audiences, i.audienceComparison])).toEqual([
      [[RESOURCE], 'resource'],
      [['partner-orders'], 'exact'],
    ]);
    expect((await auth.verify(issuer.mint({ aud: 'HTTPS://api.example.com/mcp' }))).issuer).toBe(issuer.issuer);
    await expect(auth.verify(issuer.mint({ aud: 'partner-orders' }))).rejects.toMatchObject({ reason: 'unexpected_audience' });
  });

  it('is not set by default, and nothing changes', () => {
    const auth = trust({ audience: 'orders-api' });
    expect(auth.config.resource).toBeUndefined();
    expect(auth.resourceMetadataUrl).toBeUndefined();
    expect(auth.config.perIssuer[0]!.audienceComparison).toBe('exact');
  });

  it('is offered when neither audience nor resource is set', () => {
    const error = configError({});
    expect(error.option).toBe('audience');
    expect(error.message).toMatch(/or set resource/);
  });

  it.each([
    ['a relative reference', '/mcp', /not a valid URL/],
    ['another scheme', 'urn:example:mcp', /must be an https URL/],
    ['plain http to a remote host', 'http://api.example.com/mcp', /must use https/],
    ['a fragment', 'https://api.example.com/mcp#tools', /fragment/],
    ['an empty fragment', 'https://api.example.com/mcp#', /normal form without query or fragment/],
    ['a query', 'https://api.example.com/mcp?tenant=a', /without query/],
    ['an empty query', 'https://api.example.com/mcp?', /without query/],
    ['credentials', 'https://user:pw@api.example.com/mcp', /credentials/],
    ['a dot segment', 'https://api.example.com/a/../mcp', /normal form/],
    ['a space', 'https://api.example.com/my mcp', /normal form/],
    ['a backslash', 'https://api.example.com\\mcp', /normal form/],
    ['no slashes after the scheme', 'https:api.example.com/mcp', /normal form/],
  ])('refuses %s', (_case, resource, message) => {
    const error = configError({ resource });
    expect(error.option).toBe('resource');
    expect(error.message).toMatch(message);
  });

  it('accepts http on loopback, as every URL option does', () => {
    expect(trust({ resource: 'http://127.0.0.1:3000/mcp' }).config.resource).toBe('http://127.0.0.1:3000/mcp');
  });

  it('names CYBERARK_RESOURCE in the error of a wrong value from the environment', () => {
    const error = configError({ env: { CYBERARK_RESOURCE: 'https://api.example.com/mcp#x' } });
    expect(error.message).toMatch(/\(env CYBERARK_RESOURCE\)/);
  });
});

describe('aud compared with the resource (RFC 8707)', () => {
  const auth = () => trust({ resource: RESOURCE });

  it.each([
    ['the resource as written', RESOURCE],
    ['scheme and host in upper case', 'HTTPS://API.EXAMPLE.COM/mcp'],
    ['the default port spelled out', 'https://api.example.com:443/mcp'],
    ['one of several audiences', ['orders-api', 'HTTPS://api.example.com/mcp']],
  ])('accepts %s', async (_case, aud) => {
    await expect(auth().verify(issuer.mint({ aud }))).resolves.toMatchObject({ claims: { aud } });
  });

  it.each([
    ['the path in another case', 'https://api.example.com/MCP'],
    ['a trailing slash', 'https://api.example.com/mcp/'],
    ['a parent path', 'https://api.example.com/'],
    ['a longer path', 'https://api.example.com/mcp/tools'],
    ['a fragment', 'https://api.example.com/mcp#x'],
    ['an empty fragment', 'https://api.example.com/mcp#'],
    ['a query', 'https://api.example.com/mcp?x=1'],
    ['credentials', 'https://user@api.example.com/mcp'],
    ['another port', 'https://api.example.com:8443/mcp'],
    ['http instead of https', 'http://api.example.com/mcp'],
    ['another host', 'https://api.example.org/mcp'],
    ['a host that only starts the same', 'https://api.example.com.evil/mcp'],
    ['surrounding white space', ` ${RESOURCE} `],
    ['a percent-encoded path', 'https://api.example.com/%6Dcp'],
    ['a dot segment', 'https://api.example.com/x/../mcp'],
    ['a backslash', 'https://api.example.com\\mcp'],
    ['a plain name', 'orders-api'],
    ['a number', 42],
    ['an array without it', ['orders-api', 'https://api.example.com/other']],
    ['an array of non-strings', [42, null]],
    ['an object', { resource: RESOURCE }],
  ])('refuses %s as unexpected_audience', async (_case, aud) => {
    await expect(auth().verify(issuer.mint({ aud }))).rejects.toMatchObject({ status: 401, reason: 'unexpected_audience' });
  });

  it('refuses a token without aud as missing_claim', async () => {
    await expect(auth().verify(issuer.mint({ aud: undefined }))).rejects.toMatchObject({ reason: 'missing_claim' });
  });

  it('takes a slash-only path as no path', async () => {
    const origin = trust({ resource: 'https://api.example.com/' });
    expect(origin.config.resource).toBe('https://api.example.com');
    await expect(origin.verify(issuer.mint({ aud: 'https://API.example.com' }))).resolves.toBeDefined();
    await expect(origin.verify(issuer.mint({ aud: 'https://api.example.com/' }))).resolves.toBeDefined();
    await expect(origin.verify(issuer.mint({ aud: 'https://api.example.com/mcp' }))).rejects.toMatchObject({
      reason: 'unexpected_audience',
    });
  });

  it('compares a given audience exactly, even beside a resource', async () => {
    const exact = trust({ resource: RESOURCE, audience: RESOURCE });
    await expect(exact.verify(issuer.mint({ aud: RESOURCE }))).resolves.toBeDefined();
    await expect(exact.verify(issuer.mint({ aud: 'HTTPS://api.example.com/mcp' }))).rejects.toMatchObject({
      reason: 'unexpected_audience',
    });
  });

  it('still checks the key, the issuer and the expiry', async () => {
    const other = await createTestIssuer({ appId: 'orders-api', audience: RESOURCE });
    try {
      await expect(auth().verify(other.mint({ iss: issuer.issuer }))).rejects.toMatchObject({ reason: 'unknown_key' });
      await expect(auth().verify(issuer.mint({ iss: `${issuer.issuer}x` }))).rejects.toMatchObject({
        reason: 'unexpected_issuer',
      });
      await expect(auth().verify(issuer.mint({ exp: Math.floor(Date.now() / 1000) - 3600 }))).rejects.toMatchObject({
        reason: 'token_expired',
      });
    } finally {
      await other.close();
    }
  });

  it('keeps a verification per comparison: an exact instance does not reuse a resource one', async () => {
    const token = issuer.mint({ aud: 'HTTPS://api.example.com/mcp' });
    await expect(auth().verify(token)).resolves.toBeDefined();
    await expect(trust({ audience: RESOURCE }).verify(token)).rejects.toMatchObject({ reason: 'unexpected_audience' });
  });
});
