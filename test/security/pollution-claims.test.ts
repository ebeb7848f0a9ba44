/**
 * A polluted Object.prototype (a bug elsewhere in the app, at any time after start-up) must not
 * lend a genuine token claims or header parameters it lacks: scopes, identities, `exp`, `iss`,
 * `aud`, `kid`, `typ`. Only the token's own properties count.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { expectRefusal, INSUFFICIENT_SCOPE, invalidToken, useTarget, useWarmTarget } from './harness.js';

const MISSING_CLAIM = invalidToken('token lacks a required claim', 'missing_claim');

const polluted: string[] = [];
function pollute(values: Record<string, unknown>): void {
  for (const [name, value] of Object.entries(values)) {
    polluted.push(name);
    (Object.prototype as Record<string, unknown>)[name] = value;
  }
}
afterEach(() => {
  for (const name of polluted.splice(0)) delete (Object.prototype as Record<string, unknown>)[name];
});

const nowSeconds = () => Math.floor(Date.now() / 1000);

describe('Object.prototype polluted after start-up', () => {
  const t = useWarmTarget();

  it('scope and scp: a token without scopes gets none (403)', async () => {
    pollute({ scope: 'orders.read orders.write admin', scp: ['orders.read', 'admin'], permissions: ['orders.read'] });
    const token = t.mint({ scope: undefined });
    expectRefusal(await t.bearer(token), INSUFFICIENT_SCOPE, t);
    expect((await t.auth.verify(token)).scopes).toEqual([]);
  });

  it("sub, client_id, azp, unique_name: req.auth.subject stays unset and clientId ''", async () => {
    pollute({ sub: 'polluted-sub', client_id: 'polluted-client', azp: 'polluted-azp', unique_name: 'polluted-name' });
    const token = t.mint({ sub: undefined, unique_name: undefined });
    await t.bearer(token, '/me').expect(200, {});
    const auth = await t.auth.verify(token);
    expect({ subject: auth.subject, clientId: auth.clientId }).toEqual({ subject: undefined, clientId: '' });
  });

  it('exp: a token without exp → 401 missing_expiry', async () => {
    pollute({ exp: nowSeconds() + 3600 });
    expectRefusal(await t.bearer(t.mint({ exp: undefined })), invalidToken('token has no expiry', 'missing_expiry'), t);
  });

  it('iss and aud: a token without them → 401 missing_claim', async () => {
    pollute({ iss: t.issuer.issuer, aud: t.issuer.audience });
    expectRefusal(await t.bearer(t.mint({ iss: undefined })), MISSING_CLAIM, t);
    expectRefusal(await t.bearer(t.mint({ aud: undefined })), MISSING_CLAIM, t);
  });

  it('kid: a token without kid is checked against the one published key (200)', async () => {
    pollute({ kid: 'polluted-kid' });
    await t.bearer(t.mint({}, { kid: undefined })).expect(200);
  });
});

describe('Object.prototype polluted, strict profile', () => {
  const t = useTarget({ bearer: { strict: true } });
  const mint = (claims: Record<string, unknown>, header: Record<string, unknown> = {}) =>
    t.mint({ client_id: 'svc', jti: 'j-1', ...claims }, { typ: 'at+jwt', ...header });

  it('the control: a compliant token → 200', async () => {
    await t.bearer(mint({})).expect(200);
  });

  it('typ: a token without typ → 401 unexpected_type', async () => {
    pollute({ typ: 'at+jwt' });
    expectRefusal(await t.bearer(mint({}, { typ: undefined })), invalidToken('unexpected token type', 'unexpected_type'), t);
  });

  it('jti, iat, client_id: a token without one of them → 401 missing_claim', async () => {
    pollute({ jti: 'j-polluted', iat: nowSeconds(), client_id: 'polluted-client' });
    for (const name of ['jti', 'iat', 'client_id']) {
      expectRefusal(await t.bearer(mint({ [name]: undefined })), MISSING_CLAIM, t);
    }
  });
});
