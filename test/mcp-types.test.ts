/**
 * A strict TypeScript app that imports this package and the MCP SDK's auth types compiles: our
 * middleware goes on `app.post`, `req.auth` is the SDK's `AuthInfo`, and the SDK's transport takes
 * the request. Each app is its own program: the SDK's `req.auth` declaration would otherwise
 * apply to every test of this repository.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { afterAll, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('..', import.meta.url));
const out = join(root, '.tmp', 'mcp-types');

/** The parts both apps share: the SDK's types and transport beside a guarded MCP route. */
const common = `
import express from 'express';
import type { AuthInfo as McpAuthInfo } from '@modelcontextprotocol/sdk/server/auth/types.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createBearerAuth, type AuthInfo, type BearerAuth } from 'cyberark-bearer';

const auth: BearerAuth = createBearerAuth({
  issuer: 'https://abc1234.id.cyberark.cloud/orders-api/',
  jwksUri: 'https://abc1234.id.cyberark.cloud/OAuth2/Keys/orders-api',
  resource: 'https://api.example.com/mcp',
});
export const app = express();
app.use(express.json());
app.use(auth.protectedResource({ scopesSupported: ['orders.read', 'orders.write'], resourceName: 'Orders' }));
app.post('/mcp', auth.requireToken('orders.read'), async (req, res) => {
  const ours: AuthInfo = auth.authOf(req);
  const forMcp: McpAuthInfo = ours;
  const transport = new StreamableHTTPServerTransport({});
  await transport.handleRequest(req, res, req.body);
  console.log(forMcp.clientId, forMcp.scopes.includes('orders.write'), forMcp.expiresAt, ours.claims.iss);
});

/** verify() resolves to what the SDK's own token verifiers return. */
export const verifyAccessToken = (token: string): Promise<McpAuthInfo> => auth.verify(token);
`;

const apps = {
  /** With the SDK's bearer middleware imported, its declaration of req.auth applies. */
  'with-sdk-middleware': `${common}
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';

app.post('/both', auth.requireToken(), requireBearerAuth({ verifier: { verifyAccessToken } }), (req, res) => {
  const info: McpAuthInfo | undefined = req.auth;
  res.json({ client: info?.clientId ?? null });
});
`,
  /** Without it, req.auth is ours, and is the SDK's AuthInfo as it is. */
  'ours-only': `${common}
app.get('/whoami', auth.requireToken(), (req, res) => {
  const info: McpAuthInfo = req.auth;
  const client: string = req.auth.clientId;
  res.json({ client, scopes: info.scopes, role: req.auth.claims.app_id });
});
`,
};

/** Diagnostics of one app compiled with the repository's strict options, `skipLibCheck` as given. */
function compile(name: keyof typeof apps, skipLibCheck: boolean): string[] {
  mkdirSync(out, { recursive: true });
  const file = join(out, `${name}.ts`);
  writeFileSync(file, apps[name]);
  const config = ts.readConfigFile(join(root, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const { options } = ts.parseJsonConfigFileContent(config.config, ts.sys, root);
  // The SDK's declarations use fetch's types (HeadersInit): a project checking them needs the DOM library.
  const lib = skipLibCheck ? {} : { lib: [...(options.lib ?? []), 'lib.dom.d.ts'] };
  const program = ts.createProgram([file], { ...options, noEmit: true, skipLibCheck, ...lib });
  return ts.getPreEmitDiagnostics(program).map((d) => {
    const where = d.file ? relative(root, d.file.fileName).replace(/^.*node_modules\//, '') : '';
    return `${where} TS${d.code}: ${ts.flattenDiagnosticMessageText(d.messageText, '\n')}`;
  });
}

describe('a strict app with cyberark-bearer and the MCP SDK', () => {
  afterAll(() => rmSync(out, { recursive: true, force: true }));

  it('compiles with the SDK bearer middleware imported, and req.auth the SDK AuthInfo', () => {
    expect(compile('with-sdk-middleware', true)).toEqual([]);
  }, 60_000);

  it('compiles with req.auth as ours, usable as the SDK AuthInfo, without skipLibCheck', () => {
    expect(compile('ours-only', false)).toEqual([]);
  }, 60_000);
});
