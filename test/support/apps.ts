/**
 * Express apps built the way a user builds them: Express 5 and Express 4 side by side, and an app
 * with one guarded route for tests that need a guard in an app and nothing more.
 */
import express5, { type RequestHandler } from 'express';
import express4 from 'express4';

export const EXPRESS_VERSIONS = [
  ['Express 5', express5],
  ['Express 4', express4],
] as const;

export type ExpressFactory = typeof express5;

/** An app whose one route, GET `path` (`/x` by default), runs `guard` and then answers `{ ok: true }`. */
export function guardedApp(
  guard: RequestHandler,
  { path = '/x', express = express5 }: { path?: string; express?: ExpressFactory } = {},
) {
  return express().get(path, guard, (_req, res) => {
    res.json({ ok: true });
  });
}
