/**
 * Faults on demand: an endpoint that drops the connection, answers 500, HTML, an empty or a huge
 * key set, answers late or never, until the test clears it.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './server.js';

/** How an endpoint misbehaves: `down` drops the connection, `error` answers 500, `garbage`
 * answers 200 with HTML, `empty` an empty key set (`{}` elsewhere), `huge` a 4 MB key set (or
 * the endpoint's own 4 MB answer), `slow` answers after `delayMs`, `hang` never answers. */
export type Fault = 'down' | 'error' | 'garbage' | 'empty' | 'huge' | 'slow' | 'hang';
export type Endpoint = 'jwks' | 'token' | 'discovery' | 'introspect' | 'revoke';

export class Faults {
  readonly #active = new Map<Endpoint, { fault: Fault; delayMs: number }>();
  readonly #timers = new Set<NodeJS.Timeout>();

  set(endpoint: Endpoint, fault: Fault | null, delayMs: number): void {
    if (fault === null) this.#active.delete(endpoint);
    else this.#active.set(endpoint, { fault, delayMs });
  }

  /**
   * Answers with `answer` unless a fault is set for `endpoint`; then the fault answers (or not).
   * `huge`, if given, is the endpoint's own oversized answer.
   */
  serve(endpoint: Endpoint, req: IncomingMessage, res: ServerResponse, answer: () => void, huge?: () => void): void {
    const active = this.#active.get(endpoint);
    if (!active) return answer();
    switch (active.fault) {
      case 'down':
        req.socket.destroy();
        return;
      case 'error':
        return sendJson(res, 500, { error: 'server_error' });
      case 'garbage':
        res.writeHead(200, { 'Content-Type': 'text/html' }).end('<html><body>Service temporarily unavailable</body></html>');
        return;
      case 'empty':
        return sendJson(res, 200, endpoint === 'jwks' ? { keys: [] } : {});
      case 'huge': {
        if (huge) return huge();
        const junk = { kty: 'RSA', kid: 'x'.repeat(64), n: 'A'.repeat(4096), e: 'AQAB' };
        return sendJson(res, 200, { keys: Array.from({ length: 1000 }, () => junk) });
      }
      case 'slow': {
        const timer = setTimeout(() => {
          this.#timers.delete(timer);
          if (!res.destroyed) answer();
        }, active.delayMs);
        this.#timers.add(timer);
        return;
      }
      case 'hang':
        return;
    }
  }

  /** Drops the late answers still waiting, so that closing the issuer leaves no timer behind. */
  cancelLateAnswers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
    this.#timers.clear();
  }
}
