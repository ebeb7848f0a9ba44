/**
 * Which logger a refusal is written to: the request's own (pino-http's `req.log`, so the line
 * carries the request id), else the configured one, but only a logger that cannot write the
 * request's credentials, judged from what it has bound (pino's `bindings()`), not the live request.
 */
import { queryTokens } from '../bearer/extract.js';
import { bindingsOf, holdsCredentials, isLogger, type BearerLogger } from '../log.js';

/** What we read of the request: Node's, with Express's `originalUrl` and pino-http's `id` and `log`. */
export interface LoggedRequest {
  readonly headers: { readonly authorization?: string | undefined };
  readonly rawHeaders?: readonly string[];
  readonly url?: string | undefined;
  readonly originalUrl?: string | undefined;
  readonly id?: unknown;
  readonly log?: unknown;
}

const REQ_LOG_SKIPPED =
  "req.log's bindings hold request credentials (pino-http binds the Authorization header, the URL and the parsed query by default): " +
  'bearer refusals are logged through the configured logger instead, with reqId. pino-http writes the same bindings on its own ' +
  '"request completed" lines: give it a req serializer that keeps neither headers.authorization, nor query, nor the query string ' +
  "of url (see the README's Logging section)";

const CONFIGURED_SKIPPED =
  "the logger option's bindings hold request credentials (is it a request's logger?): bearer refusals are logged through the " +
  'default logger instead; build requireToken() once, at start-up, with the application logger';

/**
 * The logger for a refusal: `req.log` when it is a logger whose bindings can be read and hold no
 * credentials; else `configured` unless its bindings hold credentials (one that cannot show them
 * was chosen by the app and is trusted); else `fallback`. Off `req.log`, the request id is added.
 */
export function requestLogger(req: LoggedRequest, configured: BearerLogger, fallback: BearerLogger): BearerLogger {
  const log = req.log;
  let secrets: string[] | undefined;
  const clean = (bound: unknown) => !holdsCredentials(bound, (secrets ??= secretsOf(req)));
  if (isLogger(log)) {
    const bound = bindingsOf(log);
    if (bound !== undefined && clean(bound)) return log;
  }
  let chosen = configured;
  const bound = bindingsOf(configured);
  if (bound !== undefined && !clean(bound)) {
    chosen = fallback;
    warnOnce(fallback, CONFIGURED_SKIPPED);
  } else if (isLogger(log)) {
    warnOnce(chosen, REQ_LOG_SKIPPED);
  }
  const id = req.id;
  return typeof id === 'string' || typeof id === 'number' ? withFields(chosen, { reqId: id }) : chosen;
}

const warned = new WeakMap<BearerLogger, Set<string>>();

function warnOnce(logger: BearerLogger, message: string): void {
  let said = warned.get(logger);
  if (!said) warned.set(logger, (said = new Set()));
  if (said.has(message)) return;
  said.add(message);
  logger.warn({}, message);
}

/**
 * The request's credentials as a logger may have bound them: every Authorization header and its
 * credential (from the raw headers, which a middleware deleting `req.headers.authorization` leaves),
 * and every query token of the URL as received and as it is now, decoded.
 */
function secretsOf(req: LoggedRequest): string[] {
  const secrets: string[] = [];
  const header = (value: string) => secrets.push(value, value.slice(value.indexOf(' ') + 1).trim());
  const raw = req.rawHeaders;
  if (raw) {
    for (let i = 0; i + 1 < raw.length; i += 2) if (raw[i]!.toLowerCase() === 'authorization') header(raw[i + 1]!);
  }
  if (typeof req.headers.authorization === 'string') header(req.headers.authorization);
  for (const url of [req.originalUrl, req.url]) {
    for (const value of queryTokens(url)) if (value !== undefined) secrets.push(value);
  }
  return secrets;
}

function withFields(logger: BearerLogger, fields: Record<string, unknown>): BearerLogger {
  return {
    debug: (obj, msg) => logger.debug({ ...fields, ...obj }, msg),
    info: (obj, msg) => logger.info({ ...fields, ...obj }, msg),
    warn: (obj, msg) => logger.warn({ ...fields, ...obj }, msg),
    error: (obj, msg) => logger.error({ ...fields, ...obj }, msg),
  };
}
