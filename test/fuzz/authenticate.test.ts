/**
 * Property tests of the framework-free entry point, `authenticate()` on a plain request object:
 * the bulk of the fuzzing, tens of thousands of cases. For every input the outcome is a verified
 * token or a BearerError with a documented status (400, 401, 403), never anything else; no
 * mutation of a valid token is ever accepted; nothing echoes the token; nothing is logged at
 * warn or above; and no promise is left rejected.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BearerError, createBearerAuth, type AuthInfo, type BearerAuth } from 'cyberark-bearer';
import { createTestIssuer, type TestIssuer } from 'cyberark-bearer/testing';
import { captureLogger, type CapturedLogger } from '../support/logger.js';
import { createForge, type Forge } from '../security/forge.js';
import { authorizationHeader, fuzzParameters, mutatedToken, randomToken } from './arbitraries.js';

const DESCRIPTIONS = new Set([
  'bearer token required',
  'malformed Authorization header',
  'more than one bearer token in the request',
  'tokens in the query string are not accepted, use the Authorization header',
  'tokens in the request body are not accepted, use the Authorization header',
  'token too large',
  'token is not a JWT (opaque tokens are not accepted)',
  'encrypted tokens (JWE) are not accepted',
  'malformed token',
  'token uses an unsupported feature',
  'token algorithm not allowed',
  'token signed by an unknown key',
  'token has no key id and several keys could match',
  'token algorithm does not match its key',
  'invalid signature',
  'token expired',
  'token too old',
  'token not yet valid',
  'token issued in the future',
  'token has no expiry',
  'token lacks a required claim',
  'token claim has an invalid value',
  'unexpected issuer',
  'unexpected audience',
  'unexpected token type',
  'insufficient scope',
]);

let unhandled = 0;
const onUnhandled = () => {
  unhandled++;
};

type Outcome = { ok: true; auth: AuthInfo } | { ok: false; error: unknown };

async function outcome(promise: Promise<AuthInfo>): Promise<Outcome> {
  try {
    return { ok: true, auth: await promise };
  } catch (error) {
    return { ok: false, error };
  }
}

/** A refusal as documented: a BearerError, status 400/401/403, a fixed description, no echo of `token`. */
function expectDocumentedRefusal(error: unknown, token: string): BearerError {
  if (!(error instanceof BearerError)) throw new Error(`not a BearerError: ${String(error)}`);
  if (![400, 401, 403].includes(error.status)) throw new Error(`status ${error.status} (${error.reason})`);
  if (!DESCRIPTIONS.has(error.description)) throw new Error(`undocumented description ${JSON.stringify(error.description)}`);
  if (token.length >= 24) {
    const shown = JSON.stringify([error.message, error.body, error.headersFor('api')]);
    if (shown.includes(token)) throw new Error('the refusal echoes the token');
  }
  return error;
}

describe('fuzzing authenticate()', () => {
  let issuer: TestIssuer;
  let forge: Forge;
  let log: CapturedLogger;
  let auth: BearerAuth;
  let forged: BearerAuth;
  let originals: string[];

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    issuer = await createTestIssuer({ appId: 'orders-api', audience: 'orders' });
    forge = await createForge();
    log = captureLogger('info');
    auth = createBearerAuth({ ...issuer.options, logger: log.logger, env: {} });
    forged = createBearerAuth({ ...forge.options, logger: log.logger, env: {} });
    const now = Math.floor(Date.now() / 1000);
    originals = Array.from({ length: 24 }, (_, i) =>
      issuer.mint({
        scope: i % 3 === 0 ? 'orders.write' : 'orders.read orders.write',
        sub: `client-${i}`,
        jti: `j${i}`,
        exp: now + 3600 + i,
      }),
    );
    for (const token of originals.slice(0, 3)) await auth.verify(token); // keys cached
  });

  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await issuer.close();
    await forge.close();
  });

  it('mutated valid tokens: never accepted unless unchanged, always a documented refusal otherwise', async () => {
    await fc.assert(
      fc.asyncProperty(
        mutatedToken(originals),
        fc.constantFrom('Bearer ', 'bearer ', 'Bearer   '),
        async ({ original, token }, scheme) => {
          const result = await outcome(auth.authenticate({ headers: { authorization: scheme + token } }, 'orders.read'));
          if (result.ok) {
            // Spaces inserted at the front only widen the separator after the scheme (RFC 6750:
            // `Bearer 1*SP b64token`): the credential is still the original token.
            if (token.replace(/^ +/, '') !== original) throw new Error('a mutated token was accepted');
            expect(result.auth.token).toBe(original);
          } else {
            expectDocumentedRefusal(result.error, token);
          }
        },
      ),
      fuzzParameters('mutated tokens through authenticate()', 20_000),
    );
  });

  it('random headers, tokens, query strings and bodies: always a documented refusal', async () => {
    const request = fc.record({
      authorization: authorizationHeader(
        fc.oneof(
          randomToken,
          mutatedToken(originals).map((m) => m.token),
        ),
      ),
      url: fc.oneof(
        fc.constant('/x'),
        fc.string({ maxLength: 30 }).map((q) => `/x?${q}`),
        randomToken.map((t) => `/x?access_token=${encodeURIComponent(t)}`),
      ),
      body: fc.option(
        fc.oneof(
          fc.jsonValue({ maxDepth: 2 }),
          randomToken.map((t) => ({ access_token: t })),
        ),
        { nil: undefined },
      ),
      method: fc.constantFrom('GET', 'POST'),
      contentType: fc.option(fc.constantFrom('application/x-www-form-urlencoded', 'application/json'), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(request, async ({ authorization, url, body, method, contentType }) => {
        const headers: Record<string, string> = {};
        if (authorization !== undefined) headers.authorization = authorization;
        if (contentType !== undefined) headers['content-type'] = contentType;
        const result = await outcome(auth.authenticate({ headers, url, method, body }, 'orders.read'));
        if (result.ok) {
          if (!originals.includes(result.auth.token)) throw new Error('a token that was never issued was accepted');
        } else {
          expectDocumentedRefusal(result.error, authorization ?? '');
        }
      }),
      fuzzParameters('random requests through authenticate()', 10_000),
    );
  });

  it('validly signed tokens with random claims: accepted only when every check holds', async () => {
    const base = () => {
      const now = Math.floor(Date.now() / 1000);
      return { iss: forge.issuer, aud: forge.audience, sub: 's', iat: now - 10, exp: now + 600, scope: 'orders.read' } as Record<
        string,
        unknown
      >;
    };
    const changes = fc.array(
      fc.tuple(
        fc.constantFrom('iss', 'aud', 'exp', 'nbf', 'iat', 'sub', 'scope', 'scp', 'client_id', 'azp'),
        fc.option(fc.jsonValue({ maxDepth: 2 }), { nil: undefined }),
      ),
      { maxLength: 3 },
    );
    // Sometimes a member is written twice in the JSON text, which JSON.stringify never does.
    const repeat = fc.option(fc.tuple(fc.constantFrom('iss', 'aud', 'exp', 'sub', 'scope'), fc.jsonValue({ maxDepth: 1 })), {
      nil: undefined,
      freq: 4,
    });
    await fc.assert(
      fc.asyncProperty(changes, repeat, async (edits, twice) => {
        const claims = base();
        for (const [name, value] of edits) {
          if (value === undefined) delete claims[name];
          else claims[name] = value;
        }
        let text = JSON.stringify(claims);
        const repeated = twice !== undefined && Object.hasOwn(claims, twice[0]);
        if (repeated) text = `${text.slice(0, -1)},${JSON.stringify(twice[0])}:${JSON.stringify(twice[1])}}`;
        const token = forge.sign(forge.header(), text);
        const result = await outcome(forged.authenticate({ headers: { authorization: `Bearer ${token}` } }, 'orders.read'));
        if (repeated && result.ok) throw new Error(`accepted a token with ${twice[0]} twice`);
        if (!result.ok) {
          const error = expectDocumentedRefusal(result.error, token);
          if (error.status === 400) throw new Error('a well-formed header was refused as a bad request');
          return;
        }
        // The oracle: every rule of the verifier, restated.
        const now = Date.now() / 1000;
        const { exp, nbf, iat, iss, aud } = claims;
        expect(typeof exp === 'number' && exp > now - 30).toBe(true);
        expect(nbf === undefined || (typeof nbf === 'number' && nbf <= now + 30)).toBe(true);
        expect(iat === undefined || (typeof iat === 'number' && iat <= now + 30)).toBe(true);
        expect(iss).toBe(forge.issuer);
        expect(aud === forge.audience || (Array.isArray(aud) && aud.includes(forge.audience))).toBe(true);
        expect(result.auth.scopes).toContain('orders.read');
      }),
      fuzzParameters('signed random claims through authenticate()', 2_000),
    );
  });

  it('validly signed tokens with random header parameters: accepted only with alg RS256 and a fitting kid', async () => {
    const edits = fc.array(
      fc.tuple(
        fc.constantFrom('alg', 'kid', 'typ', 'crit', 'b64', 'jwk', 'jku', 'x5u', 'x5c', 'cty', 'zip', 'enc'),
        fc.option(
          fc.oneof(
            fc.jsonValue({ maxDepth: 2 }),
            fc.constantFrom('none', 'HS256', 'RS384', 'ES256', 'forge-key-1', ['b64'], false),
          ),
          { nil: undefined },
        ),
      ),
      { maxLength: 3 },
    );
    await fc.assert(
      fc.asyncProperty(edits, async (changes) => {
        const header: Record<string, unknown> = { alg: 'RS256', kid: forge.kid };
        for (const [name, value] of changes) {
          if (value === undefined) delete header[name];
          else header[name] = value;
        }
        const token = forge.sign(JSON.stringify(header), forge.claims(',"scope":"orders.read"'));
        const result = await outcome(forged.authenticate({ headers: { authorization: `Bearer ${token}` } }, 'orders.read'));
        if (!result.ok) {
          expectDocumentedRefusal(result.error, token);
          return;
        }
        expect(header.alg).toBe('RS256');
        expect(header.kid === undefined || header.kid === forge.kid).toBe(true);
        expect(
          header.crit === undefined ||
            (Array.isArray(header.crit) && header.crit.every((p) => p === 'b64') && header.b64 !== false),
        ).toBe(true);
      }),
      fuzzParameters('signed random headers through authenticate()', 1_000),
    );
  });

  it('left nothing unhandled and logged nothing at warn or above (every error was an expected one)', async () => {
    await new Promise((resolve) => setImmediate(resolve));
    expect(unhandled).toBe(0);
    expect(log.lines.filter((l) => (l.level as number) >= 40)).toEqual([]);
  });
});
