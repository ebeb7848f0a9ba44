/**
 * `cyberark-bearer/testing`: integration-test an API protected by cyberark-bearer without a
 * tenant. A local issuer on 127.0.0.1 serves CyberArk's endpoints and mints tokens.
 */
export {
  createTestIssuer,
  type TestIssuer,
  type TestIssuerOptions,
  type BearerOptionsForIssuer,
  type TokenType,
} from './issuer.js';
export { randomSecret, type TestClient } from './clients.js';
export type { ResourceIndicators } from './token-endpoint.js';
export type { Fault, Endpoint } from './faults.js';
export type { MintOptions } from './signing.js';
export type { MintOpaqueOptions } from './ledger.js';
