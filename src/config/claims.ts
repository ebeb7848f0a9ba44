/**
 * The `claims` option (at the top level and in each entry of `issuers`): an object of accepted
 * values, or a synchronous function. Read by own properties only, copied and frozen.
 */
import { ConfigError } from '../errors.js';
import type { ClaimCheck, ClaimRules, ClaimValue } from '../jwt/claim-rules.js';
import { kindOf, ownList, ownProperties, type Given } from './checks.js';

/** Functions whose result is not known when they return. */
const NOT_SYNCHRONOUS = new Set(['[object AsyncFunction]', '[object AsyncGeneratorFunction]', '[object GeneratorFunction]']);

export function claimRulesOf({ option, value }: Given): ClaimRules | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'function') {
    if (NOT_SYNCHRONOUS.has(Object.prototype.toString.call(value))) {
      throw new ConfigError(
        option,
        'must be a synchronous function returning true or a reason: it runs on every request, cache hits included',
      );
    }
    return value as ClaimCheck;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new ConfigError(option, `must be an object of claim values or a function, got ${kindOf(value)}`);
  }
  const rules = Object.entries(ownProperties(value)).map(([claim, accepted]) => [
    claim,
    acceptedValues(accepted, `${option}.${claim}`),
  ]);
  if (rules.length === 0) throw new ConfigError(option, 'must name at least one claim');
  return Object.freeze(Object.fromEntries(rules) as Record<string, ClaimValue | readonly ClaimValue[]>);
}

function acceptedValues(value: unknown, option: string): ClaimValue | readonly ClaimValue[] {
  if (!Array.isArray(value)) return claimValue(value, option);
  if (value.length === 0) throw new ConfigError(option, 'must not be an empty list: no token would pass');
  return Object.freeze(ownList(value).map((item) => claimValue(item, option)));
}

function claimValue(value: unknown, option: string): ClaimValue {
  if (typeof value === 'number' && !Number.isFinite(value)) throw new ConfigError(option, 'must be a finite number');
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  throw new ConfigError(option, `must be a string, number or boolean, or a list of them, got ${kindOf(value)}`);
}
