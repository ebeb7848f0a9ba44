/**
 * Finds the bearer token of a request (RFC 6750 §2): the Authorization header, and the query
 * string or form body only when opted in. Anything ambiguous is refused, never guessed.
 */
import type { IncomingMessage } from 'node:http';
import { InvalidRequestError, MissingTokenError } from '../errors.js';

/** RFC 6750 §2.1 b64token: what may follow `Bearer `. */
const B64TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

export interface ExtractOptions {
  readonly allowQueryToken: boolean;
  readonly allowBodyToken: boolean;
}

/** The request as we read it: Node's, with the body an app's parser may have added. */
export type RequestLike = Pick<IncomingMessage, 'headers'> & {
  readonly rawHeaders?: readonly string[];
  readonly url?: string | undefined;
  readonly method?: string | undefined;
  readonly body?: unknown;
};

/**
 * Reads an Authorization header value. `undefined` means no bearer credentials (no header, or
 * another scheme such as Basic): a 401 without error code. Throws InvalidRequestError (400) when
 * `Bearer` is there but what follows is not exactly one well-formed token.
 */
function tokenFromHeader(value: string | undefined): string | undefined {
  if (value === undefined || value === '') return undefined;
  // Scheme names are case-insensitive (RFC 9110 §11.1); the separator is one or more spaces.
  const separator = value.charCodeAt(6);
  if (!startsWithBearer(value) || (separator !== 0x20 && separator !== 0x09)) {
    if (value.length === 6 && startsWithBearer(value)) throw new InvalidRequestError('malformed_request');
    return undefined;
  }
  let start = 7;
  while (value.charCodeAt(start) === 0x20) start++;
  const token = value.slice(start);
  if (separator === 0x09 || token === '') throw new InvalidRequestError('malformed_request');
  if (token.includes(' ')) throw new InvalidRequestError('several_tokens');
  return token;
}

/** True when `token` is an RFC 6750 b64token. */
export function isB64Token(token: string): boolean {
  return B64TOKEN.test(token);
}

/** `bearer` in any case, without allocating a lowercased copy (this runs on every request). */
function startsWithBearer(value: string): boolean {
  return (
    value.length >= 6 &&
    (value.charCodeAt(0) | 0x20) === 0x62 && // b
    (value.charCodeAt(1) | 0x20) === 0x65 && // e
    (value.charCodeAt(2) | 0x20) === 0x61 && // a
    (value.charCodeAt(3) | 0x20) === 0x72 && // r
    (value.charCodeAt(4) | 0x20) === 0x65 && // e
    (value.charCodeAt(5) | 0x20) === 0x72 // r
  );
}

/** More than one Authorization header? Node keeps only the first in `headers`, so count raw ones. */
function authorizationCount(raw: readonly string[] | undefined): number {
  if (!raw) return 1;
  let count = 0;
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!;
    if (name.length === 13 && name.toLowerCase() === 'authorization') count++;
  }
  return count;
}

/**
 * Is this (decoded) query parameter name the token's? Also the bracketed forms (`access_token[]`,
 * `access_token[0]`) that Express 4's query parser turns into `req.query.access_token`.
 */
function isTokenName(name: string): boolean {
  return name.startsWith('access_token') && (name.length === 12 || name.charCodeAt(12) === 0x5b);
}

/**
 * The `access_token` values of a URL's query string, found by their decoded name as Express's
 * query parsers find them (`access%5Ftoken` is `access_token`). `undefined` for a bracketed name.
 */
export function queryTokens(url: string | undefined): Array<string | undefined> {
  if (url === undefined) return [];
  const q = url.indexOf('?');
  // Without `?` there is no query; without `access_token` or a `%`, no name that decodes to it.
  if (q === -1 || (!url.includes('access_token', q) && !url.includes('%', q))) return [];
  const values: Array<string | undefined> = [];
  for (const [name, value] of new URLSearchParams(url.slice(q + 1))) {
    if (isTokenName(name)) values.push(name.length === 12 ? value : undefined);
  }
  return values;
}

function queryToken(url: string | undefined): string | undefined {
  const values = queryTokens(url);
  if (values.length === 0) return undefined;
  if (values.length > 1) throw new InvalidRequestError('several_tokens');
  return values[0] ?? '';
}

function bodyToken(req: RequestLike): string | undefined {
  const body = req.body;
  if (typeof body !== 'object' || body === null || !Object.hasOwn(body, 'access_token')) return undefined;
  const value = (body as Record<string, unknown>).access_token;
  if (Array.isArray(value)) throw new InvalidRequestError('several_tokens');
  return typeof value === 'string' ? value : '';
}

/** A query or body token is checked here: it never went through the header's parsing. */
function checkToken(token: string): string {
  if (!isB64Token(token)) throw new InvalidRequestError('malformed_request');
  return token;
}

/**
 * The request's one bearer token. Throws MissingTokenError (401) when there is none,
 * InvalidRequestError (400) when it is malformed, sent twice, or sent where it is not accepted.
 * A token from the header is not checked against RFC 6750's alphabet here: a token that verifies
 * is a b64token, so the pipeline (authenticate.ts) checks only when verification fails.
 */
export function extractToken(req: RequestLike, options: ExtractOptions): string {
  const header = req.headers.authorization;
  let token = tokenFromHeader(header);
  if (header !== undefined && authorizationCount(req.rawHeaders) > 1) throw new InvalidRequestError('several_tokens');

  const fromQuery = queryToken(req.url);
  if (fromQuery !== undefined) {
    if (!options.allowQueryToken) throw new InvalidRequestError('token_in_query');
    if (token !== undefined) throw new InvalidRequestError('several_tokens');
    token = checkToken(fromQuery);
  }
  const fromBody = bodyToken(req);
  if (fromBody !== undefined) {
    if (!options.allowBodyToken) throw new InvalidRequestError('token_in_body');
    if (token !== undefined) throw new InvalidRequestError('several_tokens');
    // RFC 6750 §2.2: only in form-encoded bodies, and never with GET.
    const type = req.headers['content-type'] ?? '';
    if (req.method === 'GET' || !type.toLowerCase().startsWith('application/x-www-form-urlencoded')) {
      throw new InvalidRequestError('malformed_request');
    }
    token = checkToken(fromBody);
  }
  if (token === undefined) throw new MissingTokenError();
  return token;
}
