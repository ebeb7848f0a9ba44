/**
 * One token from the token endpoint by the client-credentials grant (RFC 6749 §4.4): the request,
 * its bounded retries with backoff and jitter, and the answer checked and turned into a typed error.
 */
import { decodeJwt } from 'jose';
import { fetchFollowing, RedirectRefused } from '../http/follow.js';
import { readBody } from '../http/read-body.js';
import { errorFacts } from '../log.js';
import { TokenRequestError, TokenUnavailableError, type TokenFailureKind } from './errors.js';
import type { ResolvedClientConfig } from './options.js';

/** An access token as the token endpoint issued it. */
export interface AccessToken {
  /** The access token, to send as `Authorization: Bearer <token>`. Never log it. */
  readonly token: string;
  readonly tokenType: 'Bearer';
  /** When it expires, in seconds since the epoch (from `expires_in`, else the JWT's `exp`). */
  readonly expiresAt: number;
  /** The scopes granted: the answer's `scope`, else the ones requested (RFC 6749 §5.1). */
  readonly scopes: readonly string[];
}

/** A token with the times the cache needs, in milliseconds of the wall clock. */
export interface IssuedToken {
  readonly value: AccessToken;
  readonly expiresAtMs: number;
  readonly lifetimeMs: number;
}

/** Used when the answer has no `expires_in` and the token is not a JWT with `exp`. */
const FALLBACK_LIFETIME_S = 300;
/** A token answer is small; anything bigger is not one. */
const MAX_ANSWER_BYTES = 64 * 1024;
const FIRST_BACKOFF_MS = 250;
const MAX_BACKOFF_MS = 2000;
/** Not worth starting an attempt with less time than this left. */
const MIN_ATTEMPT_MS = 100;

/** A failure worth retrying. Internal: callers see TokenUnavailableError once retries are spent. */
class RetryableFailure extends Error {
  constructor(
    readonly kind: TokenFailureKind,
    readonly problem: string,
    readonly status?: number,
    readonly retryAfterMs?: number,
  ) {
    super(problem);
  }
}

/** `value` as it appears in an application/x-www-form-urlencoded body (spaces as `+`). */
const formEncode = (value: string): string => new URLSearchParams([['', value]]).toString().slice(1);

/** RFC 6749 §2.3.1: id and secret are form-urlencoded before they are joined for Basic. */
export function basicCredentials(clientId: string, clientSecret: string): string {
  return `Basic ${Buffer.from(`${formEncode(clientId)}:${formEncode(clientSecret)}`, 'utf8').toString('base64')}`;
}

const percentDecode = (text: string): string =>
  text.replace(/(?:%[0-9a-f]{2})+/gi, (run) => Buffer.from(run.replace(/%/g, ''), 'hex').toString('utf8'));
const jsonUnescape = (text: string): string =>
  text.replace(/\\(?:u([0-9a-f]{4})|(["\\/]))/gi, (_match, hex: string | undefined, char: string | undefined) =>
    hex ? String.fromCharCode(parseInt(hex, 16)) : char!,
  );
/** Every run of base64 (either alphabet) decoded, from each of the 4 offsets a glued prefix could shift it by. */
const base64Decode = (text: string): string =>
  (text.match(/[\w+/-]{4,}/g) ?? [])
    .flatMap((run) => [0, 1, 2, 3].map((k) => Buffer.from(run.slice(k), 'base64').toString('utf8')))
    .join('\n');

/** The encodings a server may echo a secret in: URL, form (`+` for space), JSON escapes, base64 (Basic). */
const DECODINGS: ReadonlyArray<(text: string) => string> = [
  percentDecode,
  (text) => percentDecode(text.replace(/\+/g, ' ')),
  jsonUnescape,
  base64Decode,
];

/**
 * Whether `text` holds the secret as it is or under up to two encodings (Basic is base64 of
 * form-encoded text), in any letter case. Such a value is never shown, not even in part.
 */
export function repeatsSecret(text: string, secret: string): boolean {
  // A secret of a few characters would match ordinary words, and is no secret anyway.
  if (secret.length < 4) return false;
  const needle = secret.toLowerCase();
  let views = [text];
  for (let depth = 0; ; depth++) {
    if (views.some((view) => view.toLowerCase().includes(needle))) return true;
    if (depth === 2) return false;
    views = views.flatMap((view) => DECODINGS.map((decode) => decode(view)));
  }
}

/** Printable ASCII (RFC 6749 §5.2 allows no more), shortened. */
function serverText(value: string, max: number): string {
  const text = value.replace(/[^\x20-\x7e]/g, '?');
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

/** `Retry-After` in milliseconds: delay-seconds or an HTTP date (RFC 9110 §10.2.3). */
function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  if (/^\s*\d+\s*$/.test(value)) return Number(value) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

const BODY_FAILURE = {
  too_large: `answer larger than ${MAX_ANSWER_BYTES} bytes`,
  timeout: 'the answer did not complete in time',
  network: 'connection failed while reading the answer',
} as const;

async function readText(response: Response, signal: AbortSignal): Promise<string> {
  const read = await readBody(response, MAX_ANSWER_BYTES, signal);
  if (read.ok) return read.text;
  const kind = read.failure === 'too_large' ? 'invalid_response' : read.failure;
  throw new RetryableFailure(kind, BODY_FAILURE[read.failure], read.failure === 'too_large' ? response.status : undefined);
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** A token goes into a header: visible ASCII only, so it can never split or inject one. */
const HEADER_SAFE_TOKEN = /^[\x21-\x7e]+$/;
/** OAuth error codes are NQSCHAR (RFC 6749 §5.2); we accept short ones. */
const ERROR_CODE = /^[\x20\x21\x23-\x5b\x5d-\x7e]{1,64}$/;

function issued(
  body: Record<string, unknown> | undefined,
  config: ResolvedClientConfig,
  secret: string,
  sentAt: number,
  status: number,
): IssuedToken {
  if (!body) throw new RetryableFailure('invalid_response', 'the answer is not a JSON object', status);
  const token = body.access_token;
  if (typeof token !== 'string' || !HEADER_SAFE_TOKEN.test(token)) {
    throw new RetryableFailure('invalid_response', 'the answer has no usable access_token', status);
  }
  const type = body.token_type;
  if (type !== undefined && (typeof type !== 'string' || type.toLowerCase() !== 'bearer')) {
    const text = typeof type === 'string' ? type : (JSON.stringify(type) ?? typeof type);
    const shown = repeatsSecret(text, secret) ? '' : ` ${serverText(JSON.stringify(text), 40)},`;
    throw new RetryableFailure('invalid_response', `token_type is${shown} not Bearer`, status);
  }
  let lifetime: number | undefined;
  const expiresIn =
    typeof body.expires_in === 'string' && /^\d+$/.test(body.expires_in) ? Number(body.expires_in) : body.expires_in;
  if (typeof expiresIn === 'number' && Number.isFinite(expiresIn) && expiresIn > 0) lifetime = expiresIn;
  else {
    try {
      const { exp } = decodeJwt(token);
      if (typeof exp === 'number' && exp > sentAt / 1000) lifetime = exp - sentAt / 1000;
    } catch {
      // Not a JWT: nothing else says when it expires.
    }
  }
  lifetime ??= FALLBACK_LIFETIME_S;
  const granted = typeof body.scope === 'string' ? body.scope.split(' ').filter((s) => s !== '') : [...config.scopes];
  const lifetimeMs = lifetime * 1000;
  // Counted from when the request was sent: the token may be older than the answer.
  const expiresAtMs = sentAt + lifetimeMs;
  return {
    value: Object.freeze({
      token,
      tokenType: 'Bearer',
      expiresAt: Math.floor(expiresAtMs / 1000),
      scopes: Object.freeze(granted),
    }),
    expiresAtMs,
    lifetimeMs,
  };
}

function redirectRefused(config: ResolvedClientConfig, { kind, status, hop }: RedirectRefused): TokenRequestError {
  let hint: string;
  switch (kind) {
    case 'insecure_redirect':
      hint = `redirected to ${hop}, which is refused: neither https nor loopback (the secret would travel unprotected)`;
      break;
    case 'too_many_redirects':
      hint = `redirected to ${hop}, which is not followed (it would resend the secret): set tokenUrl to the final URL`;
      break;
    case 'bad_redirect':
      hint = 'redirected to an unusable Location, which is not followed';
      break;
  }
  return new TokenRequestError({
    tokenUrl: config.tokenUrl,
    clientId: config.clientId,
    status,
    error: undefined,
    errorDescription: undefined,
    hint,
  });
}

/** A 4xx answer as an error, with the server's `error` and `error_description` unless they repeat the secret. */
function refusal(
  body: Record<string, unknown> | undefined,
  config: ResolvedClientConfig,
  secret: string,
  status: number,
): TokenRequestError {
  const base = { tokenUrl: config.tokenUrl, clientId: config.clientId, status, errorDescription: undefined };
  const error = typeof body?.error === 'string' && ERROR_CODE.test(body.error) ? body.error : undefined;
  if (error === undefined || repeatsSecret(error, secret)) {
    let hint: string | undefined;
    if (error !== undefined) hint = 'the OAuth error is withheld: it repeats the client secret';
    else if (status === 404) hint = 'no token endpoint there: check tenantUrl and appId (or tokenUrl)';
    return new TokenRequestError({ ...base, error: undefined, hint });
  }
  const description = body?.error_description;
  if (typeof description !== 'string' || description === '') return new TokenRequestError({ ...base, error });
  if (repeatsSecret(description, secret)) return new TokenRequestError({ ...base, error, descriptionWithheld: true });
  return new TokenRequestError({ ...base, error, errorDescription: serverText(description, 300) });
}

/** One POST to the token endpoint. Throws TokenRequestError (final) or RetryableFailure (retry). */
async function attempt(config: ResolvedClientConfig, secret: string, timeoutMs: number): Promise<IssuedToken> {
  const form = new URLSearchParams({ grant_type: 'client_credentials' });
  if (config.scopes.length > 0) form.set('scope', config.scopes.join(' '));
  const headers: Record<string, string> = {
    'content-type': 'application/x-www-form-urlencoded',
    accept: 'application/json',
  };
  if (config.authMethod === 'basic') headers.authorization = basicCredentials(config.clientId, secret);
  else {
    form.set('client_id', config.clientId);
    form.set('client_secret', secret);
  }
  const signal = AbortSignal.timeout(timeoutMs);
  const sentAt = Date.now();
  let response: Response;
  try {
    // No redirect is followed (maxRedirects 0): a 307 would resend the secret to wherever it points.
    response = await fetchFollowing(config.tokenUrl, {
      method: 'POST',
      headers,
      body: form.toString(),
      signal,
      maxRedirects: 0,
      allowInsecureHttp: config.allowInsecureHttp,
    });
  } catch (error) {
    if (error instanceof RedirectRefused) throw redirectRefused(config, error);
    // The cause (undici's) is dropped: it could describe the request.
    if (signal.aborted) throw new RetryableFailure('timeout', `no answer within ${Math.round(timeoutMs)} ms`);
    throw new RetryableFailure('network', 'connection failed');
  }
  try {
    const { status } = response;
    if (status === 408 || status === 429 || status >= 500) {
      throw new RetryableFailure('http_status', `HTTP ${status}`, status, retryAfterMs(response.headers.get('retry-after')));
    }
    const text = await readText(response, signal);
    const body = parseJson(text);
    if (status >= 200 && status < 300) return issued(body, config, secret, sentAt, status);
    throw refusal(body, config, secret, status);
  } finally {
    // Frees the connection whatever happened; a no-op once the body was read.
    response.body?.cancel().catch(() => {});
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * A token, retrying passing failures with exponential backoff and jitter, within
 * `retry.attempts` and `retry.maxElapsed`. Throws TokenRequestError or TokenUnavailableError.
 */
export async function requestToken(config: ResolvedClientConfig, secret: string): Promise<IssuedToken> {
  const { logger, tokenUrl, clientId } = config;
  const scope = config.scopes.join(' ');
  // Durations are measured on the monotonic clock; expiry uses the wall clock, as `exp` does.
  const started = performance.now();
  const deadline = started + config.retry.maxElapsed * 1000;
  for (let attempts = 1; ; attempts++) {
    const attemptStarted = performance.now();
    try {
      // Whole milliseconds: AbortSignal.timeout() refuses fractions.
      const timeoutMs = Math.max(1, Math.floor(Math.min(config.timeout * 1000, deadline - attemptStarted)));
      const result = await attempt(config, secret, timeoutMs);
      const now = performance.now();
      logger.debug(
        {
          tokenUrl,
          clientId,
          scope: result.value.scopes.join(' '),
          ms: Math.round(now - attemptStarted),
          totalMs: Math.round(now - started),
          attempts,
          expiresIn: Math.round(result.lifetimeMs / 1000),
        },
        'access token obtained',
      );
      return result;
    } catch (error) {
      const ms = Math.round(performance.now() - attemptStarted);
      if (error instanceof TokenRequestError) {
        logger.error(
          {
            tokenUrl,
            clientId,
            scope,
            status: error.status,
            error: error.error,
            errorDescription: error.errorDescription,
            ms,
            attempts,
          },
          'token request refused',
        );
        throw error;
      }
      let failure: RetryableFailure;
      if (error instanceof RetryableFailure) failure = error;
      else {
        logger.warn(errorFacts(error), 'unexpected error during a token request');
        failure = new RetryableFailure('invalid_response', 'unexpected failure');
      }
      const base = Math.min(MAX_BACKOFF_MS, FIRST_BACKOFF_MS * 2 ** (attempts - 1));
      // Half fixed, half random: callers that failed together do not retry together.
      let wait = base / 2 + Math.random() * (base / 2);
      if (failure.retryAfterMs !== undefined) wait = Math.max(wait, failure.retryAfterMs);
      const left = deadline - performance.now();
      const facts = { tokenUrl, clientId, scope, reason: failure.kind, status: failure.status, ms, attempts };
      if (attempts >= config.retry.attempts || left - wait < MIN_ATTEMPT_MS) {
        const totalMs = Math.round(performance.now() - started);
        logger.error({ ...facts, totalMs }, 'token request failed');
        const after =
          failure.retryAfterMs !== undefined && attempts < config.retry.attempts
            ? ` (the server asked to wait ${Math.ceil(failure.retryAfterMs / 1000)} s)`
            : '';
        throw new TokenUnavailableError(
          { tokenUrl, clientId, kind: failure.kind, problem: `${failure.problem}${after}`, status: failure.status, attempts },
          { cause: failure },
        );
      }
      logger.warn({ ...facts, retryInMs: Math.round(wait) }, 'token request failed, retrying');
      await sleep(wait);
    }
  }
}
