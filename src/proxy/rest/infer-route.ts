import type { Request, Response } from 'express';
import type { ModelInferResponse } from '../../protocol/inference-messages';
import { HEADER_LENGTH_HEADER, splitInferBody } from './infer-body';
import { inferRequestFromJson } from './infer-request-json';
import { inferResponseToRest } from './infer-response-json';
import { invalid } from './json-rules';
import type { ModelRoutesContext } from './model-routes';
import { requestDeadline } from './request-deadline';
import { sendRestError } from './rest-error';
import { abortWhenClientLeaves, modelOf } from './rest-reply';
import { principalOf } from './rest-authentication';
import { routedCall } from './routed-call';
import { restInferenceNotes } from './rest-inference-observation';
import { QuotaRefusal } from '../../tenancy/quota-refusal';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer: the KServe v2 request (JSON, or JSON plus
 * binary tensors) becomes one ModelInferRequest with raw contents, routed like a gRPC
 * ModelInfer; the instance's answer goes back as JSON or binary as the client asked.
 * The body arrives decompressed and within the size limit (the raw body parser).
 */
/** A request's inferences: its batch dimension when the model batches, else 1. */
function inferenceCount(context: ModelRoutesContext, model: string, message: { inputs?: { shape?: (number | string)[] }[] }): number {
  const first = Number(message.inputs?.[0]?.shape?.[0] ?? -1);
  return context.pool.maxBatchSize(model) > 0 && first > 0 ? first : 1;
}

/** The request with the tenant's Triton priority set (replacing any the client sent). */
function withPriority<T extends { parameters?: Record<string, unknown> }>(message: T, priority: number): T {
  return { ...message, parameters: { ...(message.parameters ?? {}), priority: { uint64_param: String(priority) } } };
}

export function inferRoute(context: ModelRoutesContext): (request: Request, response: Response) => Promise<void> {
  return async (request, response) => {
    const notes = restInferenceNotes(response);
    try {
      if (!Buffer.isBuffer(request.body)) throw invalid('the inference request has no body');
      const { name, version } = modelOf(request);
      const { header, binary } = splitInferBody(request.body, request.headers[HEADER_LENGTH_HEADER]);
      const { message, binaryOutputs } = inferRequestFromJson(header, binary, name, version);
      const principal = principalOf(response);
      const inferences = inferenceCount(context, name, message);
      const admission = await context.tenancy.admission.admit(principal.tenantId, principal.quotas, name, inferences, request.body.length);
      const startedMs = Date.now();
      let inferResponse: ModelInferResponse;
      try {
        const priority = principal.quotas.priority ?? 0;
        const routed = priority > 0 ? withPriority(message, priority) : message;
        const options = { deadline: requestDeadline(request), signal: abortWhenClientLeaves(response), inference: true, servedBy: (address: string) => { notes.instance = address; } };
        const upstreamStartedAt = performance.now();
        try {
          inferResponse = await routedCall<ModelInferResponse>(context, 'ModelInfer', routed, options);
        } finally {
          notes.upstreamMs = performance.now() - upstreamStartedAt;
        }
      } catch (error) {
        context.tenancy.meter.record(principal.tenantId, name, { inferences, bytesIn: request.body.length, bytesOut: 0, error: true, latencyMs: Date.now() - startedMs });
        throw error;
      } finally {
        admission.release();
      }
      const reply = inferResponseToRest(inferResponse, binaryOutputs);
      context.tenancy.meter.record(principal.tenantId, name, { inferences, bytesIn: request.body.length, bytesOut: reply.byteLength, error: false, latencyMs: Date.now() - startedMs });
      if (response.destroyed) return;
      response.status(200);
      response.setHeader('content-type', reply.contentType);
      response.setHeader('content-length', reply.byteLength);
      if (reply.headerLength !== null) response.setHeader(HEADER_LENGTH_HEADER, reply.headerLength);
      for (const part of reply.parts) response.write(part);
      response.end();
    } catch (error) {
      if (error instanceof QuotaRefusal) notes.refusedBy = error.limit;
      sendRestError(response, error, context.logger, 'infer');
    }
  };
}
