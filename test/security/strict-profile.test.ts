/**
 * `strict: true`, the RFC 9068 profile: `typ: at+jwt` and the claims `sub`, `client_id`, `jti`
 * and `iat` are required. Without it, CyberArk's own tokens (typ JWT, none of those) pass.
 */
import { describe, it } from 'vitest';
import { expectRefusal, invalidToken, useTarget } from './harness.js';

const UNEXPECTED_TYPE = invalidToken('unexpected token type', 'unexpected_type');
const MISSING_CLAIM = invalidToken('token lacks a required claim', 'missing_claim');

/** What RFC 9068 §2.2 asks of an access token, on top of the test kit's defaults. */
const COMPLIANT = { sub: 'svc-1', client_id: 'svc-1', jti: 'token-1' };
const AT_JWT = { typ: 'at+jwt' };

describe('strict: true (RFC 9068)', () => {
  const t = useTarget({ bearer: { strict: true } });

  it('a compliant at+jwt token → 200', async () => {
    await t.bearer(t.mint(COMPLIANT, AT_JWT)).expect(200, { caller: 'svc-1', scopes: ['orders.read'] });
  });

  it('typ application/at+jwt (the media type form) → 200', async () => {
    await t.bearer(t.mint(COMPLIANT, { typ: 'application/at+jwt' })).expect(200);
  });

  it.each([
    ['absent', undefined],
    ['JWT (what CyberArk issues)', 'JWT'],
    ['at+jwe (one letter off)', 'at+jwe'],
  ])('typ %s → 401 unexpected_type', async (_case, typ) => {
    expectRefusal(await t.bearer(t.mint(COMPLIANT, { typ })), UNEXPECTED_TYPE, t);
  });

  it.each(['sub', 'client_id', 'jti', 'iat'])('no %s → 401 missing_claim', async (claim) => {
    expectRefusal(await t.bearer(t.mint({ ...COMPLIANT, [claim]: undefined }, AT_JWT)), MISSING_CLAIM, t);
  });
});

describe('strict off (the default)', () => {
  const t = useTarget();

  it('a CyberArk-shaped token (typ JWT, no client_id, jti) → 200', async () => {
    await t.bearer(t.mint()).expect(200);
  });

  it.each(['sub', 'iat'])('no %s, no typ → 200', async (claim) => {
    await t.bearer(t.mint({ [claim]: undefined }, { typ: undefined })).expect(200);
  });
});
