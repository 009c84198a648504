import type { NextFunction, Request, Response } from 'express';
import type { InferenceObserver } from '../../observability/inference-observer';
import type { Principal } from '../../tenancy/tenancy-records';
import { requestIdOf } from '../request-id';

/** What the inference route leaves in response.locals for the observation (see inferRoute). */
export interface RestInferenceNotes {
  upstreamMs: number | null;
  instance: string | null;
  refusedBy: string | null;
}

export const REST_INFERENCE_NOTES = 'inferenceNotes';

/** The notes of this response, created on first use. */
export function restInferenceNotes(response: Response): RestInferenceNotes {
  let notes = response.locals[REST_INFERENCE_NOTES] as RestInferenceNotes | undefined;
  if (notes === undefined) {
    notes = { upstreamMs: null, instance: null, refusedBy: null };
    response.locals[REST_INFERENCE_NOTES] = notes;
  }
  return notes;
}

/**
 * Express middleware, first on the REST inference route: reports how every call ended
 * (refused by authentication, the body parser or a quota, or answered) once its response
 * is finished or the client has gone, exactly once.
 */
export function observeRestInference(observer: InferenceObserver) {
  return (request: Request, response: Response, next: NextFunction): void => {
    const startedMs = Date.now();
    const startedAt = performance.now();
    let reported = false;
    const report = (): void => {
      if (reported) return;
      reported = true;
      const principal = response.locals['principal'] as Principal | undefined;
      const notes = restInferenceNotes(response);
      // A client that left before its answer: as gRPC would say, CANCELLED (499 in nginx's terms).
      const code = response.writableFinished ? response.statusCode : 499;
      const model = request.params['model'];
      const version = request.params['version'];
      observer.observe({
        protocol: 'http',
        rpc: 'infer',
        tenantId: principal?.tenantId ?? null,
        keyId: principal?.keyId ?? null,
        model: typeof model === 'string' ? model : '',
        version: typeof version === 'string' ? version : '',
        requestId: requestIdOf(request.headers['x-request-id']),
        code: String(code),
        failed: code < 200 || code >= 300,
        refusedBy: notes.refusedBy,
        latencyMs: performance.now() - startedAt,
        upstreamMs: notes.upstreamMs,
        instance: notes.instance,
        bytesIn: Number(request.headers['content-length'] ?? 0) || 0,
        bytesOut: Number(response.getHeader('content-length') ?? 0) || 0,
        startedMs,
      });
    };
    response.once('finish', report);
    response.once('close', report);
    next();
  };
}
