/**
 * Attacks on the claims of genuinely signed tokens: times around the clock tolerance (30 s by
 * default), missing or mistyped `exp`, look-alike issuers and audiences, and scope tricks.
 * The clock is pinned (fake Date only, sockets stay real), so the boundaries are exact.
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { useForge } from './forge.js';
import {
  AUDIENCE,
  expectRefusal,
  INSUFFICIENT_SCOPE,
  invalidToken,
  startTarget,
  useTarget,
  useWarmTarget,
  type Target,
} from './harness.js';

const EXPIRED = invalidToken('token expired', 'token_expired');
const WRONG_ISSUER = invalidToken('unexpected issuer', 'unexpected_issuer');
const WRONG_AUDIENCE = invalidToken('unexpected audience', 'unexpected_audience');
const INVALID_CLAIM = invalidToken('token claim has an invalid value', 'invalid_claim');
const MISSING_CLAIM = invalidToken('token lacks a required claim', 'missing_claim');

describe('claims attacks', () => {
  const t = useWarmTarget();
  let now: number;
  beforeEach(() => {
    vi.useFakeTimers({ toFake: ['Date'] });
    now = Math.floor(Date.now() / 1000);
    vi.setSystemTime(now * 1000 + 500); // half a second into `now`
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const send = (claims: Record<string, unknown>, path = '/orders') =>
    t.get(path, `Bearer ${t.mint({ iat: now - 60, ...claims })}`);

  describe('exp, nbf, iat', () => {
    it('exp an hour ago → 401 token_expired', async () => {
      expectRefusal(await send({ exp: now - 3600 }), EXPIRED, t);
    });

    it('exp 29 s ago, just inside the 30 s tolerance → 200', async () => {
      await send({ exp: now - 29 }).expect(200);
    });

    it('exp exactly 30 s ago, at the tolerance → 401 token_expired', async () => {
      expectRefusal(await send({ exp: now - 30 }), EXPIRED, t);
    });

    it('exp 31 s ago, just outside the tolerance → 401 token_expired', async () => {
      expectRefusal(await send({ exp: now - 31 }), EXPIRED, t);
    });

    it('no exp → 401 missing_expiry', async () => {
      expectRefusal(await send({ exp: undefined }), invalidToken('token has no expiry', 'missing_expiry'), t);
    });

    it.each([
      ['a string', String(Math.floor(Date.now() / 1000) + 3600)],
      ['null', null],
      ['a boolean', true],
      ['an array', [4102444800]],
      ['an ISO date', '2099-01-01T00:00:00Z'],
    ])('exp as %s → 401 invalid_claim', async (_case, exp) => {
      expectRefusal(await send({ exp }), INVALID_CLAIM, t);
    });

    it('nbf an hour ahead → 401 token_not_yet_valid', async () => {
      expectRefusal(await send({ nbf: now + 3600 }), invalidToken('token not yet valid', 'token_not_yet_valid'), t);
    });

    it('nbf 31 s ahead, just outside the tolerance → 401 token_not_yet_valid', async () => {
      expectRefusal(await send({ nbf: now + 31 }), invalidToken('token not yet valid', 'token_not_yet_valid'), t);
    });

    it('nbf 29 s ahead, inside the tolerance → 200', async () => {
      await send({ nbf: now + 29 }).expect(200);
    });

    it('nbf as a string → 401 invalid_claim', async () => {
      expectRefusal(await send({ nbf: String(now - 10) }), INVALID_CLAIM, t);
    });

    it('iat an hour ahead (beyond the tolerance) → 401 issued_in_future', async () => {
      expectRefusal(await send({ iat: now + 3600 }), invalidToken('token issued in the future', 'issued_in_future'), t);
    });

    it('iat 31 s ahead, just outside the tolerance → 401 issued_in_future', async () => {
      expectRefusal(await send({ iat: now + 31 }), invalidToken('token issued in the future', 'issued_in_future'), t);
    });

    it('iat 29 s ahead, inside the tolerance → 200', async () => {
      await send({ iat: now + 29 }).expect(200);
    });

    it('iat as a string → 401 invalid_claim', async () => {
      expectRefusal(await send({ iat: String(now) }), INVALID_CLAIM, t);
    });
  });

  describe('iss', () => {
    const issuer = () => t.issuer.issuer; // http://127.0.0.1:<port>/orders-api/

    it('the control: the exact issuer, with its trailing slash → 200', async () => {
      expect(issuer().endsWith('/orders-api/')).toBe(true);
      await send({ iss: issuer() }).expect(200);
    });

    it('without the trailing slash → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: issuer().slice(0, -1) }), WRONG_ISSUER, t);
    });

    it('with a second trailing slash → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: `${issuer()}/` }), WRONG_ISSUER, t);
    });

    it('the app id in another case (Orders-Api) → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: issuer().replace('orders-api', 'Orders-Api') }), WRONG_ISSUER, t);
    });

    it('the scheme in another case (HTTP://) → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: issuer().replace('http://', 'HTTP://') }), WRONG_ISSUER, t);
    });

    it('with a query string appended → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: `${issuer()}?x=1` }), WRONG_ISSUER, t);
    });

    it('as an array holding the right issuer → 401 unexpected_issuer', async () => {
      expectRefusal(await send({ iss: [issuer()] }), WRONG_ISSUER, t);
    });

    it('missing → 401 missing_claim', async () => {
      expectRefusal(await send({ iss: undefined }), MISSING_CLAIM, t);
    });
  });

  describe('aud', () => {
    it('wrong → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: 'https://api.example.com/billing' }), WRONG_AUDIENCE, t);
    });

    it('an array holding the right one among others → 200', async () => {
      await send({ aud: ['https://api.example.com/billing', AUDIENCE] }).expect(200);
    });

    it('an array without the right one → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: ['https://api.example.com/billing', `${AUDIENCE}/`] }), WRONG_AUDIENCE, t);
    });

    it('an empty array → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: [] }), WRONG_AUDIENCE, t);
    });

    it('a prefix or extension of the right one → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: `${AUDIENCE}s` }), WRONG_AUDIENCE, t);
      expectRefusal(await send({ aud: AUDIENCE.slice(0, -1) }), WRONG_AUDIENCE, t);
    });

    it('another case → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: AUDIENCE.toUpperCase() }), WRONG_AUDIENCE, t);
    });

    it('missing → 401 missing_claim', async () => {
      expectRefusal(await send({ aud: undefined }), MISSING_CLAIM, t);
    });

    it('not a string (an object) → 401 unexpected_audience', async () => {
      expectRefusal(await send({ aud: { 0: AUDIENCE } }), WRONG_AUDIENCE, t);
    });
  });

  describe('scope (the route requires orders.read)', () => {
    it('the control: scope "orders.read orders.write" → 200', async () => {
      await send({ scope: 'orders.read orders.write' }).expect(200);
    });

    it('missing → 403 insufficient_scope', async () => {
      expectRefusal(await send({ scope: undefined }), INSUFFICIENT_SCOPE, t);
    });

    it('an empty string → 403 insufficient_scope', async () => {
      expectRefusal(await send({ scope: '' }), INSUFFICIENT_SCOPE, t);
    });

    it('as an array of whole names → 200 (read like scp, as documented)', async () => {
      await send({ scope: ['orders.write', 'orders.read'] }).expect(200);
    });

    it('as an array whose one member holds two names → 403 insufficient_scope', async () => {
      expectRefusal(await send({ scope: ['orders.write orders.read'] }), INSUFFICIENT_SCOPE, t);
    });

    it.each([
      ['a longer name', 'orders.readx'],
      ['the prefix', 'orders'],
      ['the suffix', 'read'],
      ['a prefixed name', 'xorders.read'],
      ['another case', 'Orders.Read'],
      ['commas as separators', 'orders.write,orders.read'],
      ['a tab as separator', 'orders.write\torders.read'],
      ['a wildcard', 'orders.*'],
      ['a wildcard for all', '*'],
      ['a regex-like name', 'orders.rea.'],
    ])('%s (%s) → 403 insufficient_scope', async (_case, scope) => {
      expectRefusal(await send({ scope }), INSUFFICIENT_SCOPE, t);
    });

    it('not a string or array (an object) → 403 insufficient_scope', async () => {
      expectRefusal(await send({ scope: { 'orders.read': true } }), INSUFFICIENT_SCOPE, t);
    });

    it('granted by scp when scope is present without it → 403 (the first claim present wins)', async () => {
      expectRefusal(await send({ scope: 'orders.write', scp: ['orders.read'] }), INSUFFICIENT_SCOPE, t);
    });
  });
});

/**
 * NumericDates that JSON allows but no clock reaches: `1e400` parses to Infinity, `1e300` is
 * finite. A date is accepted from 0 (1970) to 253402300799 (9999-12-31T23:59:59Z). The forge
 * signs raw JSON, which the test kit's mint (JSON.stringify writes Infinity as null) cannot.
 */
describe('NumericDates out of range', () => {
  const forge = useForge();
  const t = useTarget(() => ({ bearer: forge.options }));

  /** Forge's claims (scope orders.read) with `name` set to the raw JSON number `value`. */
  const claimsWith = (name: 'exp' | 'nbf' | 'iat', value: string) => {
    const claims = forge.claims(',"scope":"orders.read"');
    return name === 'nbf'
      ? claims.replace(/}$/, `,"nbf":${value}}`)
      : claims.replace(new RegExp(`"${name}":\\d+`), `"${name}":${value}`);
  };
  const send = (name: 'exp' | 'nbf' | 'iat', value: string, auth: Target = t) =>
    auth.bearer(forge.sign(forge.header(), claimsWith(name, value)));

  it.each([
    ['exp', '1e400'],
    ['exp', '-1e400'],
    ['exp', '1e300'],
    ['exp', '253402300800'],
    ['nbf', '1e400'],
    ['nbf', '-1e400'],
    ['nbf', '-1'],
    ['iat', '1e400'],
    ['iat', '-1e400'],
    ['iat', '-1'],
  ])('%s: %s → 401 invalid_claim', async (name, value) => {
    expectRefusal(await send(name as 'exp' | 'nbf' | 'iat', value), INVALID_CLAIM, t);
  });

  it.each([
    ['exp', '253402300799'],
    ['exp', '253402300798.5'],
    ['nbf', '0'],
    ['iat', '0'],
  ])('the bounds: %s: %s → 200', async (name, value) => {
    await send(name as 'exp' | 'nbf' | 'iat', value).expect(200);
  });

  it('iat: -1e400 with maxTokenAge → 401 invalid_claim (not token_too_old)', async () => {
    const aged = await startTarget({ bearer: { ...forge.options, maxTokenAge: 600 } });
    try {
      expectRefusal(await send('iat', '-1e400', aged), INVALID_CLAIM, aged);
    } finally {
      await aged.close();
    }
  });
});
