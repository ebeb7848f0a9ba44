/**
 * readBody(): answers of any size are read to a bound and no further, over real HTTP on 127.0.0.1.
 */
import type { ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { readBody } from '../src/http/read-body.js';
import { scriptedServer, type ScriptedServer } from './support/scripted-server.js';

const servers: ScriptedServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A server that answers every request with `answer`; returns its URL. */
async function serve(answer: (res: ServerResponse) => void): Promise<string> {
  const server = await scriptedServer([(_req, res) => answer(res)]);
  servers.push(server);
  return `${server.url}/`;
}

async function read(url: string, maxBytes: number, abortAfterMs?: number) {
  const controller = new AbortController();
  const response = await fetch(url, { signal: controller.signal });
  if (abortAfterMs !== undefined) setTimeout(() => controller.abort(), abortAfterMs);
  return readBody(response, maxBytes, controller.signal);
}

describe('readBody', () => {
  it('returns the text of an answer within the bound, multi-byte characters included', async () => {
    const url = await serve((res) => res.end('{"ok":"héllo ✓"}'));
    expect(await read(url, 64)).toEqual({ ok: true, text: '{"ok":"héllo ✓"}' });
  });

  it('accepts an answer of exactly the bound', async () => {
    const url = await serve((res) => res.end('x'.repeat(100)));
    expect(await read(url, 100)).toEqual({ ok: true, text: 'x'.repeat(100) });
  });

  it('refuses a declared Content-Length over the bound before reading', async () => {
    const url = await serve((res) => {
      res.setHeader('content-length', '101');
      res.end('x'.repeat(101));
    });
    expect(await read(url, 100)).toEqual({ ok: false, failure: 'too_large' });
  });

  it('stops reading a chunked answer (no Content-Length) once it passes the bound', async () => {
    let written = 0;
    const url = await serve((res) => {
      // Keeps sending until the client goes away: reading it all would never end.
      const timer = setInterval(() => {
        if (res.destroyed) return clearInterval(timer);
        res.write('y'.repeat(1024));
        written += 1024;
      }, 1);
      res.on('close', () => clearInterval(timer));
    });
    expect(await read(url, 8 * 1024)).toEqual({ ok: false, failure: 'too_large' });
    expect(written).toBeGreaterThan(8 * 1024);
  });

  it('reports a connection cut in the middle of the body as a network failure', async () => {
    const url = await serve((res) => {
      res.setHeader('content-length', '1000');
      res.write('z'.repeat(10));
      setTimeout(() => res.socket?.destroy(), 20);
    });
    expect(await read(url, 4096)).toEqual({ ok: false, failure: 'network' });
  });

  it('reports an abort while the body trickles in as a timeout', async () => {
    const url = await serve((res) => {
      res.write('a');
      // Never ends on its own.
    });
    expect(await read(url, 4096, 50)).toEqual({ ok: false, failure: 'timeout' });
  });
});
