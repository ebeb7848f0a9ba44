/**
 * Why a token could not be had: the server refused (fail at once) or could not be reached in time
 * (after retries). Messages name the URL, the client id and the server's words, never the secret.
 */

/** Base of the client's errors: catch this to handle every token failure. */
export abstract class TokenError extends Error {
  /** Stable code to branch on. */
  abstract readonly code: string;
  /** The token endpoint. */
  readonly tokenUrl: string;
  readonly clientId: string;

  constructor(message: string, tokenUrl: string, clientId: string, options?: ErrorOptions) {
    super(`cyberark-bearer: ${message}`, options);
    this.name = new.target.name;
    this.tokenUrl = tokenUrl;
    this.clientId = clientId;
  }
}

/**
 * The token endpoint refused the request (a 4xx other than 408 and 429, or a redirect). Retrying
 * cannot help: fix the client id, secret, scopes or URL. For OAuth errors (RFC 6749 §5.2) `error`
 * is the code, e.g. `invalid_client`, `invalid_scope`, `unauthorized_client`.
 */
export class TokenRequestError extends TokenError {
  readonly code = 'ERR_CLIENT_TOKEN_REFUSED';
  /** HTTP status of the answer. */
  readonly status: number;
  /** The OAuth `error` code, when the server sent one. */
  readonly error: string | undefined;
  /**
   * The server's `error_description` (printable ASCII, shortened), when sent. Withheld (undefined)
   * when it repeats the client secret in any encoding; so is `error`.
   */
  readonly errorDescription: string | undefined;

  constructor(details: {
    tokenUrl: string;
    clientId: string;
    status: number;
    error: string | undefined;
    errorDescription: string | undefined;
    hint?: string | undefined;
    descriptionWithheld?: boolean;
  }) {
    let what = `HTTP ${details.status}${details.hint ? `: ${details.hint}` : ''}`;
    if (details.error) {
      what = details.error;
      if (details.errorDescription) what += ` (${details.errorDescription})`;
      else if (details.descriptionWithheld) what += ' (error_description withheld: it repeats the client secret)';
    }
    super(
      `token request for client ${JSON.stringify(details.clientId)} refused by ${details.tokenUrl}: ${what}`,
      details.tokenUrl,
      details.clientId,
    );
    this.status = details.status;
    this.error = details.error;
    this.errorDescription = details.errorDescription;
  }
}

/** Why a token request failed for a passing reason. */
export type TokenFailureKind = 'timeout' | 'network' | 'http_status' | 'invalid_response';

/**
 * No token could be had in the time allowed: the endpoint was unreachable, slow, answered 5xx or
 * 429, or answered something that is not a token. Worth retrying later.
 */
export class TokenUnavailableError extends TokenError {
  readonly code = 'ERR_CLIENT_TOKEN_UNAVAILABLE';
  /** What went wrong with the last attempt. */
  readonly kind: TokenFailureKind;
  /** HTTP status of the last answer, for `http_status`. */
  readonly status: number | undefined;
  /** Requests made. */
  readonly attempts: number;

  constructor(
    details: {
      tokenUrl: string;
      clientId: string;
      kind: TokenFailureKind;
      problem: string;
      status: number | undefined;
      attempts: number;
    },
    options?: ErrorOptions,
  ) {
    const tries = details.attempts === 1 ? '1 attempt' : `${details.attempts} attempts`;
    super(
      `no token for client ${JSON.stringify(details.clientId)} from ${details.tokenUrl} after ${tries}: ${details.problem}`,
      details.tokenUrl,
      details.clientId,
      options,
    );
    this.kind = details.kind;
    this.status = details.status;
    this.attempts = details.attempts;
  }
}
