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
import { routedCall } from './routed-call';

/**
 * POST /v2/models/{m}[/versions/{v}]/infer: the KServe v2 request (JSON, or JSON plus
 * binary tensors) becomes one ModelInferRequest with raw contents, routed like a gRPC
 * ModelInfer; the instance's answer goes back as JSON or binary as the client asked.
 * The body arrives decompressed and within the size limit (the raw body parser).
 */
export function inferRoute(context: ModelRoutesContext): (request: Request, response: Response) => Promise<void> {
  return async (request, response) => {
    try {
      if (!Buffer.isBuffer(request.body)) throw invalid('the inference request has no body');
      const { name, version } = modelOf(request);
      const { header, binary } = splitInferBody(request.body, request.headers[HEADER_LENGTH_HEADER]);
      const { message, binaryOutputs } = inferRequestFromJson(header, binary, name, version);
      const options = { deadline: requestDeadline(request), signal: abortWhenClientLeaves(response) };
      const inferResponse = await routedCall<ModelInferResponse>(context, 'ModelInfer', message, options);
      const reply = inferResponseToRest(inferResponse, binaryOutputs);
      if (response.destroyed) return;
      response.status(200);
      response.setHeader('content-type', reply.contentType);
      response.setHeader('content-length', reply.byteLength);
      if (reply.headerLength !== null) response.setHeader(HEADER_LENGTH_HEADER, reply.headerLength);
      for (const part of reply.parts) response.write(part);
      response.end();
    } catch (error) {
      sendRestError(response, error, context.logger, 'infer');
    }
  };
}
