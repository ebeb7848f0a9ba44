/**
 * Introspection (RFC 7662) and revocation (RFC 7009) at CyberArk's paths: a registered client
 * authenticates by HTTP Basic, as CyberArk's SDK does, and asks about or revokes a token.
 */
import type { IncomingMessage } from 'node:http';
import type { Clients } from './clients.js';
import { basicCredentials, formPost, invalidRequest, NO_STORE, readForm, Refusal } from './form-post.js';
import type { Ledger } from './ledger.js';
import { sendJson, type Answer } from './server.js';

export interface IntrospectionSetup {
  /** Realm of the Basic challenge. */
  readonly appId: string;
  readonly clients: Clients;
  readonly ledger: Ledger;
}

/** The answer to `POST /OAuth2/Introspect/<appId>`; `padding` characters added make it oversized. */
export function introspectionEndpoint(setup: IntrospectionSetup, padding = 0): Answer {
  return formPost(async (req, res) => {
    const token = await tokenParameter(setup, req);
    if (token instanceof Refusal) return token;
    const answer = setup.ledger.introspect(token);
    sendJson(res, 200, padding > 0 ? { ...answer, padding: 'x'.repeat(padding) } : answer, NO_STORE);
  });
}

/** `POST /oauth2/revoke/<appId>`: 200 with an empty body, known token or not (RFC 7009 §2.2). */
export function revocationEndpoint(setup: IntrospectionSetup): Answer {
  return formPost(async (req, res) => {
    const token = await tokenParameter(setup, req);
    if (token instanceof Refusal) return token;
    setup.ledger.revoke(token);
    res.writeHead(200, { 'Content-Length': '0', ...NO_STORE }).end();
  });
}

/** The form's `token`, once the client has authenticated. */
async function tokenParameter(setup: IntrospectionSetup, req: IncomingMessage): Promise<string | Refusal> {
  const form = await readForm(req, ['token', 'token_type_hint']);
  if (form instanceof Refusal) return form;
  const refused = authenticate(setup, req, form);
  if (refused) return refused;
  return form.get('token') || invalidRequest('token is required');
}

/** HTTP Basic only: a secret in the body is refused, so that a verifier sending one is caught. */
function authenticate(setup: IntrospectionSetup, req: IncomingMessage, form: URLSearchParams): Refusal | undefined {
  const refuse = (description: string) =>
    new Refusal(401, 'invalid_client', description, { 'WWW-Authenticate': `Basic realm="${setup.appId}"` });
  if (form.has('client_secret')) return refuse('use HTTP Basic client authentication');
  const basic = basicCredentials(req.headers.authorization);
  if (basic === null) return refuse('malformed Basic credentials');
  if (basic === undefined) return refuse('HTTP Basic client authentication required');
  const client = setup.clients.authenticate(basic.id, basic.secret);
  if (client === 'disabled') return refuse('client is disabled');
  return client ? undefined : refuse('client authentication failed');
}
