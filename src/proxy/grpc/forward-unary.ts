import type { handleUnaryCall, ServerUnaryCall, sendUnaryData } from '@grpc/grpc-js';
import { status } from '@grpc/grpc-js';
import { toGrpcStatus } from '../../errors/grpc-error';
import { isTriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { peekInferRequest } from '../../protocol/infer-request-peek';
import type { InstancePool } from '../../triton/instance-pool';
import { forwardedMetadata } from '../forwarded-metadata';
import type { Router } from '../router';
import { callUpstream, type UpstreamError } from '../upstream-call';

export interface ForwardContext {
  readonly pool: InstancePool;
  readonly router: Router;
  readonly logger: Logger;
}

/**
 * A unary handler that forwards the client's raw message to an instance serving the
 * model named in fields 1-2, and relays the instance's headers, response, status and
 * trailers unchanged. `whenUnroutable` may answer instead of an error when no instance
 * can take the call (ModelReady answers "not ready").
 */
export function forwardUnary(context: ForwardContext, method: string, whenUnroutable?: () => Buffer): handleUnaryCall<Buffer, Buffer> {
  const path = `/inference.GRPCInferenceService/${method}`;
  return (call: ServerUnaryCall<Buffer, Buffer>, callback: sendUnaryData<Buffer>) => {
    const peek = peekInferRequest(call.request);
    if (peek === null) {
      callback({ code: status.INVALID_ARGUMENT, details: `the ${method} request is not a valid protobuf message` });
      return;
    }
    const controller = new AbortController();
    call.once('cancelled', () => controller.abort());
    let headersSent = false;
    callUpstream(context.pool, context.router, path, call.request, peek, {
      metadata: call.metadata,
      deadline: call.getDeadline(),
      signal: controller.signal,
      onHeaders: (headers) => {
        headersSent = true;
        call.sendMetadata(forwardedMetadata(headers));
      },
    }).then(
      (reply) => callback(null, reply.response, forwardedMetadata(reply.trailers)),
      (error: unknown) => {
        if (isTriageError(error)) {
          if (whenUnroutable !== undefined && !headersSent) {
            callback(null, whenUnroutable());
            return;
          }
          context.logger.debug({ method, code: error.code, errorId: error.id, reason: error.message }, 'call not routed');
          callback(toGrpcStatus(error));
          return;
        }
        const upstream = error as UpstreamError;
        callback({ code: upstream.code, details: upstream.details, metadata: upstream.metadata });
      },
    );
  };
}
