/**
 * A trusted issuer that signs any bytes: the test kit's `mint()` always writes well-formed
 * JSON, but some attacks need a validly signed header or payload that is not (duplicate member
 * names, non-JSON, a JSON array). Its JWKS is served over real HTTP on 127.0.0.1.
 */
import { generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { listen } from '../support/http.js';
import { startedForTests } from '../support/lifecycle.js';

export interface Forge {
  readonly kid: string;
  readonly issuer: string;
  readonly audience: string;
  readonly jwksUri: string;
  /** Options for createBearerAuth() that trust this forge. */
  readonly options: { issuer: string; audience: string; jwksUri: string };
  /** A header and a claims set as raw JSON text, for tokens that are otherwise valid. */
  header(extra?: string): string;
  claims(extra?: string): string;
  /** Signs `header` and `payload` (raw text or bytes) with RS256, whatever they contain. */
  sign(header: string | Buffer, payload: string | Buffer): string;
  /** The base64url RS256 signature of any signing input. */
  signature(input: string): string;
  close(): Promise<void>;
}

const b64url = (data: string | Buffer) => Buffer.from(data).toString('base64url');

export async function createForge(): Promise<Forge> {
  const { privateKey, publicKey }: { privateKey: KeyObject; publicKey: KeyObject } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
  });
  const kid = 'forge-key-1';
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid, use: 'sig', alg: 'RS256' };
  const server = await listen((_req, res) => {
    res.writeHead(200, { 'Content-Type': 'application/json' }).end(JSON.stringify({ keys: [jwk] }));
  });
  const issuer = 'https://forge.example/app/';
  const audience = 'forge-api';
  const jwksUri = `${server.url}/keys`;
  return {
    kid,
    issuer,
    audience,
    jwksUri,
    options: { issuer, audience, jwksUri },
    header: (extra = '') => `{"alg":"RS256","kid":"${kid}"${extra}}`,
    claims: (extra = '') => {
      const now = Math.floor(Date.now() / 1000);
      return `{"iss":"${issuer}","aud":"${audience}","sub":"forged","iat":${now},"exp":${now + 600}${extra}}`;
    },
    sign(header, payload) {
      const input = `${b64url(header)}.${b64url(payload)}`;
      return `${input}.${b64url(sign('sha256', Buffer.from(input), privateKey))}`;
    },
    signature: (input) => b64url(sign('sha256', Buffer.from(input), privateKey)),
    close: server.close,
  };
}

/** For a describe block: a forge started before its tests and closed after them. */
export function useForge(): Forge {
  return startedForTests(createForge, (forge) => forge.close());
}
