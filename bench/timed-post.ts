import { request as httpRequest } from 'node:http';
import { performance } from 'node:perf_hooks';
import type { Readable } from 'node:stream';

export interface TimedAnswer {
  readonly status: number;
  readonly text: string;
  /** Bytes of the body sent. */
  readonly sentBytes: number;
  /** From the start of the request until its last body byte was handed to the kernel, ms. */
  readonly bodySentMs: number;
  /** From the start of the request until the whole answer was read, ms. */
  readonly answeredMs: number;
}

/**
 * POSTs a streamed body (chunked) over node:http and times its two edges: the last body
 * byte written to the socket (the 'finish' of the request: the server has read all but
 * what the loopback socket buffers hold) and the end of the answer. Resolves with any
 * HTTP status; rejects only when the exchange itself fails.
 */
export function timedPost(url: URL, headers: Readonly<Record<string, string>>, body: Readable): Promise<TimedAnswer> {
  const started = performance.now();
  let sentBytes = 0;
  let bodySentMs = Number.NaN;
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { method: 'POST', headers }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.once('error', reject);
      response.once('end', () => resolve({
        status: response.statusCode ?? 0,
        text: Buffer.concat(chunks).toString('utf8'),
        sentBytes,
        bodySentMs,
        answeredMs: performance.now() - started,
      }));
    });
    request.once('error', reject);
    request.once('finish', () => { bodySentMs = performance.now() - started; });
    body.on('data', (chunk: Buffer) => { sentBytes += chunk.length; });
    body.once('error', (error) => request.destroy(error));
    body.pipe(request);
  });
}
