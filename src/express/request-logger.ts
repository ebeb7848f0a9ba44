/**
 * Which logger a refusal is written to: the request's own (pino-http's `req.log`, so the line
 * carries the request id) only when that logger cannot write the request's credentials.
 */
import { isLogger, type BearerLogger } from '../log.js';

/** What we read of the request: Node's, with pino-http's `id` and `log`. */
export interface LoggedRequest {
  readonly headers: { readonly authorization?: string | undefined };
  readonly url?: string | undefined;
  readonly id?: unknown;
  readonly log?: unknown;
}

const warned = new WeakSet<BearerLogger>();

/**
 * `req.log` when it is a pino logger whose bindings hold neither the Authorization header nor an
 * `access_token` from the query string; else `fallback`, with the request id added when there is
 * one. pino-http binds the serialized request (headers and URL included) to `req.log` unless
 * `quietReqLogger` is set or the logger redacts them, so by default every line written through
 * it would carry the token. Loggers that cannot show their bindings are not trusted with it.
 */
export function requestLogger(req: LoggedRequest, fallback: BearerLogger): BearerLogger {
  const log = req.log;
  if (!isLogger(log)) return fallback;
  if (!mayWriteCredentials(log, req)) return log;
  if (!warned.has(fallback)) {
    warned.add(fallback);
    fallback.warn(
      {},
      'req.log would write the request credentials (pino-http binds the Authorization header and URL): bearer refusals are logged through the configured logger instead; set quietReqLogger: true in pino-http or redact req.headers.authorization and req.url',
    );
  }
  const id = req.id;
  return typeof id === 'string' || typeof id === 'number' ? withFields(fallback, { reqId: id }) : fallback;
}

/** Shorter strings are looked for only where pino-http puts them: anywhere, they match by chance. */
const SEARCH_ANYWHERE = 16;

function mayWriteCredentials(log: BearerLogger, req: LoggedRequest): boolean {
  const authorization = typeof req.headers.authorization === 'string' ? req.headers.authorization : '';
  const url = req.url ?? '';
  const q = url.indexOf('?');
  const inQuery = q !== -1 && url.includes('access_token', q);
  if (authorization === '' && !inQuery) return false;
  const bindings = (log as { bindings?: unknown }).bindings;
  if (typeof bindings !== 'function') return true;
  let bound: unknown;
  let text: string;
  try {
    bound = bindings.call(log);
    text = JSON.stringify(bound);
  } catch {
    return true;
  }
  // pino-http's request serializer: `req.headers.authorization` and `req.url`, query included.
  const serialized = (bound as { req?: { headers?: { authorization?: unknown }; url?: unknown } } | undefined)?.req;
  if (authorization !== '' && serialized?.headers?.authorization === authorization) return true;
  if (inQuery && typeof serialized?.url === 'string' && /[?&]access_token=[^&]/.test(serialized.url)) return true;
  // Anywhere else (other serializers): the header, its credential and query tokens, when long enough.
  const secrets = [authorization, authorization.slice(authorization.lastIndexOf(' ') + 1)];
  if (inQuery) for (const pair of url.slice(q + 1).split('&')) if (pair.startsWith('access_token=')) secrets.push(pair.slice(13));
  return secrets.some((secret) => secret.length >= SEARCH_ANYWHERE && text.includes(JSON.stringify(secret).slice(1, -1)));
}

function withFields(logger: BearerLogger, fields: Record<string, unknown>): BearerLogger {
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}
