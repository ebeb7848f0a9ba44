/**
 * The Express glue: extract, verify, check scopes, attach `req.auth`, or refuse. It touches
 * only Node's request and response, so it runs under Express 4 and 5 (and Connect) alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { extractToken, isB64Token, type ExtractOptions } from '../bearer/extract.js';
import { sendRefusal } from '../bearer/respond.js';
import { BearerError, InsufficientScopeError, InvalidRequestError } from '../errors.js';
import type { TokenVerifier } from '../jwt/verify.js';
import { errorFacts, type BearerLogger } from '../log.js';
import { satisfies, type CompiledRequirement } from '../scopes.js';
import type { AuthInfo } from '../types.js';
import { requestLogger } from './request-logger.js';

/** The request as the middleware sees it: Node's, plus what Express and pino-http add. */
export type BearerRequest = IncomingMessage & {
  auth?: AuthInfo;
  body?: unknown;
  originalUrl?: string;
  route?: { path?: unknown };
  log?: unknown;
};

/** An Express (4 or 5) compatible middleware. */
export type BearerMiddleware = (req: BearerRequest, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface MiddlewareSettings extends ExtractOptions {
  readonly realm: string;
  readonly onError: 'respond' | 'next';
  readonly logger: BearerLogger;
}

export function createMiddleware(verifier: TokenVerifier, requirement: CompiledRequirement, settings: MiddlewareSettings): BearerMiddleware {
  const refuse = (req: BearerRequest, res: ServerResponse, next: (error?: unknown) => void, error: BearerError): void => {
    logRefusal(requestLogger(req, settings.logger, verifier.config.logger), req, error);
    if (settings.onError === 'next') next(error.withRealm(settings.realm));
    else sendRefusal(res, error, settings.realm);
  };

  const accept = (req: BearerRequest, res: ServerResponse, next: (error?: unknown) => void, auth: AuthInfo): void => {
    if (requirement.mode !== 'none' && !satisfies(auth.scopes, requirement)) {
      refuse(req, res, next, new InsufficientScopeError(requirement.challenge, { subject: auth.subject, kid: auth.header.kid }));
      return;
    }
    req.auth = auth;
    next();
  };

  return function requireToken(req, res, next) {
    let token: string;
    try {
      token = extractToken(req, settings);
    } catch (error) {
      refuse(req, res, next, error as BearerError);
      return;
    }
    // A token seen before is answered synchronously: no signature check, no promise.
    const hit = verifier.cached(token);
    if (hit !== undefined) {
      accept(req, res, next, hit);
      return;
    }
    verifier.verifyUncached(token).then(
      (auth) => accept(req, res, next, auth),
      (error: unknown) => {
        // Anything that verifies is a b64token, so its syntax is checked only on failure: a
        // token outside RFC 6750's alphabet is a malformed request (400), not a bad token.
        if (error instanceof BearerError && !isB64Token(token)) refuse(req, res, next, new InvalidRequestError('malformed_request'));
        else if (error instanceof BearerError) refuse(req, res, next, error);
        else next(error);
      },
    ).catch((error: unknown) => {
      // Only reachable if next() itself throws; never let it become an unhandled rejection.
      verifier.config.logger.error(errorFacts(error), 'error after bearer verification');
    });
  };
}

function pathOf(req: BearerRequest): string {
  const url = req.originalUrl ?? req.url ?? '';
  const q = url.indexOf('?');
  // The query string is dropped: it may carry a token.
  return q === -1 ? url : url.slice(0, q);
}

function logRefusal(logger: BearerLogger, req: BearerRequest, error: BearerError): void {
  const route = typeof req.route?.path === 'string' ? req.route.path : undefined;
  logger.info(
    {
      reason: error.reason,
      status: error.status,
      method: req.method,
      path: pathOf(req),
      ...(route !== undefined ? { route } : {}),
      ...(error.subject !== undefined ? { sub: error.subject } : {}),
      ...(error.kid !== undefined ? { kid: error.kid } : {}),
    },
    'bearer token refused',
  );
}
