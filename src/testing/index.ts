/**
 * `cyberark-bearer/testing`: integration-test an API protected by cyberark-bearer without a
 * tenant. A local issuer on 127.0.0.1 serves CyberArk's endpoints and mints tokens.
 */
export {
  createTestIssuer,
  randomSecret,
  type TestIssuer,
  type TestIssuerOptions,
  type TestClient,
  type Fault,
  type Endpoint,
  type MintOptions,
  type BearerOptionsForIssuer,
} from './issuer.js';
