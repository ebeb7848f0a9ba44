/**
 * A client secret that reads differently in every encoding, and token endpoints that echo it back
 * in each form, for the tests that no output of the client or the CLI shows it.
 */
import { json, type Answer, type Received } from './scripted-server.js';

const formEncode = (value: string) => new URLSearchParams([['', value]]).toString().slice(1);
const jsonEscape = (value: string) => JSON.stringify(value).slice(1, -1);

/** A client whose secret reads differently in every encoding: space, + / @ % & " \ and é. */
export const ECHOED_CLIENT = { clientId: 'svc@echo', clientSecret: 'p@ss w/rd+%&"\\é9' } as const;

/**
 * Forms in which a token endpoint may echo the client secret, each as that endpoint would build it
 * from the request it received (`basic`: the client authenticates with HTTP Basic).
 */
export const SECRET_ECHOES: ReadonlyArray<readonly [form: string, basic: boolean, echo: (req: Received) => string]> = [
  ['raw', false, () => ECHOED_CLIENT.clientSecret],
  ['URL-encoded', false, () => encodeURIComponent(ECHOED_CLIENT.clientSecret)],
  ['URL-encoded, lower-case hex', false, () => encodeURIComponent(ECHOED_CLIENT.clientSecret).toLowerCase()],
  ['form-encoded', false, () => formEncode(ECHOED_CLIENT.clientSecret)],
  ['the form body received', false, (req) => req.body],
  ['the Basic header received', true, (req) => req.headers.authorization ?? ''],
  ['base64 of id:secret', true, () => Buffer.from(`${ECHOED_CLIENT.clientId}:${ECHOED_CLIENT.clientSecret}`).toString('base64')],
  ['JSON-escaped', false, () => jsonEscape(ECHOED_CLIENT.clientSecret)],
  [
    'JSON-escaped, ASCII only',
    false,
    () =>
      jsonEscape(ECHOED_CLIENT.clientSecret).replace(
        /[^\x20-\x7e]/g,
        (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`,
      ),
  ],
];

/** Every form of the secret above, to search an output for. */
export function echoedSecretForms(): string[] {
  const { clientId, clientSecret } = ECHOED_CLIENT;
  const forms = [clientSecret, encodeURIComponent(clientSecret), formEncode(clientSecret), jsonEscape(clientSecret)];
  for (const joined of [`${clientId}:${clientSecret}`, `${formEncode(clientId)}:${formEncode(clientSecret)}`]) {
    forms.push(Buffer.from(joined).toString('base64'), Buffer.from(joined).toString('base64url'));
  }
  // As an output would show them with non-ASCII characters replaced.
  return [...new Set([...forms, ...forms.map((form) => form.replace(/[^\x20-\x7e]/g, '?'))])];
}

/** A token endpoint that refuses every request with 401, echoing `echo(request)` in `field`. */
export const echoingRefusal =
  (field: 'error' | 'error_description', echo: (req: Received) => string): Answer =>
  (req, res) => {
    const body =
      field === 'error'
        ? { error: echo(req) }
        : { error: 'invalid_client', error_description: `client authentication failed for ${echo(req)}` };
    json(401, body)(req, res);
  };
