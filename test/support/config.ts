/**
 * Configuration mistakes in tests: what a constructor threw, checked to be a ConfigError, so that
 * a test can go on to read the option it names and its message.
 */
import { expect } from 'vitest';
import { ConfigError } from 'cyberark-bearer';

/** The ConfigError that `build` throws; the test fails if it throws anything else, or nothing. */
export function configError(build: () => unknown): ConfigError {
  try {
    build();
  } catch (error) {
    expect(error).toBeInstanceOf(ConfigError);
    return error as ConfigError;
  }
  throw new Error('expected a ConfigError');
}
