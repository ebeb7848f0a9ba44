// Names the documentation's snippets use without defining them, as a reader's app would have.
import type { Express, Request, RequestHandler } from 'express';

declare global {
  const app: Express;
  const handler: RequestHandler;
  const req: Request;
  const tenantUrl: string;
  const appId: string;
  const audience: string;
  const token: string;
  const url: string;
  function makeApp(options: object): Express;
  function alertOps(message: string): void;
  function retryLater(): void;
}
