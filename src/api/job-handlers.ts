import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { createGunzip, createInflate } from 'node:zlib';
import type { Request, RequestHandler } from 'express';
import { TriageError } from '../errors/triage-error';
import { pathParam, queryParam } from './request-params';
import { parseIdempotencyKey } from '../jobs/job-idempotency';
import { MAX_LIST } from '../jobs/job-service';
import type { Jobs } from '../jobs/jobs';
import type { Logger } from '../observability/logger';
import { principalOf } from '../proxy/rest/rest-authentication';

export interface JobHandlers {
  readonly createJob: RequestHandler;
  readonly listJobs: RequestHandler;
  readonly getJob: RequestHandler;
  readonly cancelJob: RequestHandler;
  readonly results: RequestHandler;
  readonly errors: RequestHandler;
}

/** Content types of a JSONL job body; every other body is read as a JSON object. */
const JSONL_TYPES = new Set(['application/x-ndjson', 'application/jsonl', 'application/json-lines', 'application/x-jsonlines', 'text/jsonl']);
const DEFAULT_LIST = 100;

/** A body over --jobs-max-body. */
class BodyTooLarge extends Error {
  constructor(readonly limit: number) {
    super(`the body is larger than the limit of ${limit} bytes for a job (--jobs-max-body): split the job`);
  }
}

/**
 * Batch jobs over HTTP, for keys with the `jobs` scope (their tenant's jobs) or `admin`
 * (every job). The body of POST /v1/jobs is never buffered: it streams (decompressed when
 * gzip or deflate) into the service, which reads it row by row. An answer known before the
 * body's end (a refusal, a replay, a body over the limit) is sent at once; the rest of the
 * body is then dropped as it arrives, up to another --jobs-max-body, after which the
 * connection is cut: work on a refused body stays bounded, and the client reads the answer.
 */
export function jobHandlers(jobs: Jobs, logger: Logger): JobHandlers {
  const { service } = jobs;
  const lines = (kind: 'results' | 'errors'): RequestHandler => async (request, response) => {
    const body = await service.lines(principalOf(response), pathParam(request, 'id'), kind);
    response.status(200).setHeader('content-type', 'application/x-ndjson');
    await pipeline(Readable.from(body), response);
  };
  return {
    async createJob(request, response) {
      const principal = principalOf(response);
      const format = JSONL_TYPES.has(mediaType(request.headers['content-type'])) ? 'jsonl' : 'json';
      try {
        const created = await service.create({
          principal,
          format,
          query: request.query as Record<string, unknown>,
          idempotencyKey: parseIdempotencyKey(request.headers['idempotency-key']),
          body: requestBody(request, jobs.maxBodyBytes),
        });
        if (created.replayed) response.setHeader('idempotent-replayed', 'true');
        response.status(created.replayed ? 200 : 201).location(`/v1/jobs/${String(created.job['id'])}`).json(created.job);
      } catch (error) {
        if (!(error instanceof BodyTooLarge)) throw error;
        logger.debug({ route: 'POST /v1/jobs', limit: error.limit }, 'job body over the limit');
        if (!response.headersSent) response.status(413).json({ error: error.message });
      } finally {
        discardRest(request, jobs.maxBodyBytes);
      }
    },
    async listJobs(request, response) {
      const tenant = queryParam(request, 'tenant');
      const limitText = queryParam(request, 'limit');
      const limit = limitText === null ? DEFAULT_LIST : Number(limitText);
      if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIST) throw new TriageError('INVALID_ARGUMENT', `query parameter limit must be an integer from 1 to ${MAX_LIST}`);
      response.json({ jobs: await service.list(principalOf(response), tenant, limit) });
    },
    async getJob(request, response) {
      response.json(await service.get(principalOf(response), pathParam(request, 'id')));
    },
    async cancelJob(request, response) {
      response.json(await service.cancel(principalOf(response), pathParam(request, 'id')));
    },
    results: lines('results'),
    errors: lines('errors'),
  };
}

/**
 * The request body as it arrives, inflated when Content-Encoding says gzip or deflate,
 * failing with BodyTooLarge past `maxBytes` (counted after inflation). The request itself is
 * never destroyed when reading stops early, so an answer can still be sent.
 */
async function* requestBody(request: Request, maxBytes: number): AsyncGenerator<Buffer> {
  const encoding = String(request.headers['content-encoding'] ?? 'identity').trim().toLowerCase();
  let source: AsyncIterable<Buffer>;
  let inflater: NodeJS.ReadWriteStream | null = null;
  if (encoding === 'identity' || encoding === '') {
    source = request.iterator({ destroyOnReturn: false }) as AsyncIterable<Buffer>;
  } else if (encoding === 'gzip' || encoding === 'x-gzip' || encoding === 'deflate') {
    const stream = encoding === 'deflate' ? createInflate() : createGunzip();
    request.once('error', (error) => stream.destroy(error));
    request.once('aborted', () => stream.destroy(new TriageError('CANCELLED', 'the client closed the connection during the upload')));
    request.pipe(stream);
    inflater = stream;
    source = stream;
  } else {
    throw Object.assign(new Error(`unsupported Content-Encoding '${encoding}'`), { status: 415, type: 'encoding.unsupported', encoding });
  }
  let bytes = 0;
  try {
    for await (const chunk of source) {
      bytes += chunk.length;
      if (bytes > maxBytes) throw new BodyTooLarge(maxBytes);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof Error && (error as { code?: unknown }).code === 'Z_DATA_ERROR') throw new TriageError('INVALID_ARGUMENT', `the body is not valid ${encoding} data: ${error.message}`);
    throw error;
  } finally {
    if (inflater !== null) request.unpipe(inflater as unknown as NodeJS.WritableStream);
    if (!request.complete) request.pause();
  }
}

/**
 * After an answer given before the body's end: the rest of the body is read and dropped,
 * up to `limitBytes`, so a client still sending gets to read the answer instead of a reset
 * connection; a client sending more than that is cut off.
 */
function discardRest(request: Request, limitBytes: number): void {
  if (request.complete || request.destroyed) return;
  let bytes = 0;
  request.on('data', (chunk: Buffer) => {
    bytes += chunk.length;
    if (bytes > limitBytes) request.socket.destroy();
  });
  request.resume();
}

/** `application/x-ndjson; charset=utf-8` -> `application/x-ndjson`. */
function mediaType(header: string | undefined): string {
  return (header ?? '').split(';')[0]?.trim().toLowerCase() ?? '';
}
