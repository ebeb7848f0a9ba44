/**
 * The ways the test kit's issuer can fail an endpoint the library fetches (its keys, its
 * introspection endpoint), each with the reason the library logs for it.
 */
import type { Fault } from 'cyberark-bearer/testing';

export const FAULTS: ReadonlyArray<[Fault, string]> = [
  ['down', 'network'],
  ['error', 'http_status'],
  ['garbage', 'not_json'],
  ['empty', 'invalid_document'],
  ['huge', 'too_large'],
  ['hang', 'timeout'],
];
