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
 * `req.log` when it is a pino logger whose bindings hold neither the Authorization header nor a
 * query string with `access_token`; else `fallback`, with the request id added when there is
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

function mayWriteCredentials(log: BearerLogger, req: LoggedRequest): boolean {
  // What would betray the credentials inside the JSON of the bindings: the header value as a
  // whole JSON string (pino serializers copy it verbatim), and each access_token in the query
  // as it appears in the URL. Short query values are skipped: they could match anything.
  const needles: string[] = [];
  const authorization = req.headers.authorization;
  if (typeof authorization === 'string' && authorization !== '') needles.push(JSON.stringify(authorization));
  const url = req.url ?? '';
  const q = url.indexOf('?');
  if (q !== -1 && url.includes('access_token', q)) {
    for (const pair of url.slice(q + 1).split('&')) {
      if (pair.startsWith('access_token=') && pair.length >= 13 + 16) needles.push(JSON.stringify(pair.slice(13)).slice(1, -1));
    }
  }
  if (needles.length === 0) return false;
  const bindings = (log as { bindings?: unknown }).bindings;
  if (typeof bindings !== 'function') return true;
  let text: string;
  try {
    text = JSON.stringify(bindings.call(log));
  } catch {
    return true;
  }
  return needles.some((needle) => text.includes(needle));
}

function withFields(logger: BearerLogger, fields: Record<string, unknown>): BearerLogger {
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}
