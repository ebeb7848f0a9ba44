/**
 * The Express glue: runs the request pipeline, then attaches `req.auth` or refuses. It touches
 * only Node's request and response, so it runs under Express 4 and 5 (and Connect) alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { BearerAuthenticator } from '../bearer/authenticate.js';
import { sendRefusal } from '../bearer/respond.js';
import { BearerError, type ChallengeParams } from '../errors.js';
import { errorFacts, type BearerLogger } from '../log.js';
import type { CompiledRequirement } from '../scopes.js';
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

/**
 * An Express (4 or 5) compatible middleware. It takes any Node request, so it fits every route
 * whatever other packages declare on Express's `Request` (the MCP SDK its own `req.auth`).
 */
export type BearerMiddleware = (req: IncomingMessage, res: ServerResponse, next: (error?: unknown) => void) => void;

export interface MiddlewareSettings {
  readonly realm: string;
  readonly onError: 'respond' | 'next';
  /** The configured logger: refusals go to it (or to `req.log`) unless its bindings hold credentials. */
  readonly logger: BearerLogger;
  /** Never a request's logger: refusals when the others cannot be used, and errors after the answer. */
  readonly fallbackLogger: BearerLogger;
  /** `resource_metadata` and the route's `scope` for the challenges, once a resource is declared. */
  readonly challenge?: ChallengeParams | undefined;
}

export function createMiddleware(
  authenticator: BearerAuthenticator,
  requirement: CompiledRequirement,
  settings: MiddlewareSettings,
): BearerMiddleware {
  const refuse = (req: BearerRequest, res: ServerResponse, next: (error?: unknown) => void, error: BearerError): void => {
    try {
      logRefusal(requestLogger(req, settings.logger, settings.fallbackLogger), req, error);
    } catch {
      // A log sink that throws must not leave the client waiting: the refusal is answered anyway.
    }
    if (settings.onError === 'next') next(error.withRealm(settings.realm, settings.challenge));
    else sendRefusal(res, error, settings.realm, settings.challenge);
  };

  return function requireToken(incoming, res, next) {
    const req = incoming as BearerRequest;
    let outcome: AuthInfo | Promise<AuthInfo>;
    try {
      outcome = authenticator.authenticate(req, requirement) as AuthInfo | Promise<AuthInfo>;
    } catch (error) {
      if (!(error instanceof BearerError)) throw error;
      refuse(req, res, next, error);
      return;
    }
    // A token seen before is answered synchronously: no signature check, no promise.
    if (!(outcome instanceof Promise)) {
      req.auth = outcome;
      next();
      return;
    }
    outcome
      .then(
        (auth) => {
          req.auth = auth;
          next();
        },
        (error: unknown) => {
          if (error instanceof BearerError) refuse(req, res, next, error);
          else next(error);
        },
      )
      .catch((error: unknown) => {
        // Only reachable if next() itself throws; never let it become an unhandled rejection.
        settings.fallbackLogger.error(errorFacts(error), 'error after bearer verification');
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
      ...(error.detail !== undefined ? { detail: error.detail } : {}),
    },
    'bearer token refused',
  );
}
