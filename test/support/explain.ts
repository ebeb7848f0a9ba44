/**
 * Reading an `auth.explain()` answer in the tests: each check's verdict, one check by name, and
 * the verdicts of a token whose issuer is refused before its keys are looked for.
 */
import type { CheckName, Explanation } from 'cyberark-bearer';

/** Each check's verdict: true passed, false failed, undefined not reached. */
export const verdicts = (e: Explanation) => Object.fromEntries(e.checks.map((c) => [c.check, c.ok]));

export const check = (e: Explanation, name: CheckName) => e.checks.find((c) => c.check === name);

/**
 * Verdicts for a token of an unknown issuer when keys are found per issuer: refused once its
 * structure is read, so neither its algorithm nor its signature is checked.
 */
export const UNKNOWN_ISSUER_VERDICTS = {
  syntax: true,
  structure: true,
  algorithm: undefined,
  signature: undefined,
  issuer: false,
};
