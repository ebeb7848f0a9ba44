/**
 * Reading an HTTP answer whose size we do not control (a JWKS, a token endpoint's answer) without
 * ever holding more than a set number of bytes. Each caller words the failure in its own errors.
 */

export type BodyFailure = 'too_large' | 'timeout' | 'network';

export type BodyRead = { readonly ok: true; readonly text: string } | { readonly ok: false; readonly failure: BodyFailure };

/**
 * The body of `response` as UTF-8, or why it could not be read: more than `maxBytes` declared or
 * received (reading stops there), `signal` aborted meanwhile, or the connection failed.
 */
export async function readBody(response: Response, maxBytes: number, signal: AbortSignal): Promise<BodyRead> {
  if (!response.body) return { ok: true, text: '' };
  const declared = Number(response.headers.get('content-length') ?? NaN);
  if (declared > maxBytes) return { ok: false, failure: 'too_large' };
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > maxBytes) return { ok: false, failure: 'too_large' };
      chunks.push(value);
    }
  } catch {
    return { ok: false, failure: signal.aborted ? 'timeout' : 'network' };
  } finally {
    reader.releaseLock();
  }
  return { ok: true, text: Buffer.concat(chunks).toString('utf8') };
}
