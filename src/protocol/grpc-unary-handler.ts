import type { handleUnaryCall, sendUnaryData, ServerUnaryCall } from '@grpc/grpc-js';
import { toGrpcStatus } from '../errors/grpc-error';
import { asTriageError } from '../errors/triage-error';
import type { Logger } from '../observability/logger';

/**
 * Adapts an async function to a grpc-js unary handler. Every outcome answers the call
 * exactly once; an error is logged here, once, with its id (INTERNAL at error level,
 * the caller's mistakes at debug), never with the request's payload.
 */
export function unaryHandler<Request, Response>(
  logger: Logger,
  method: string,
  handler: (request: Request, call: ServerUnaryCall<Request, Response>) => Promise<Response> | Response,
): handleUnaryCall<Request, Response> {
  return (call: ServerUnaryCall<Request, Response>, callback: sendUnaryData<Response>) => {
    let result: Promise<Response>;
    try {
      result = Promise.resolve(handler(call.request, call));
    } catch (error) {
      result = Promise.reject(error);
    }
    result.then(
      (response) => callback(null, response),
      (error: unknown) => {
        logHandledError(logger, method, error);
        callback(toGrpcStatus(error));
      },
    );
  };
}

export function logHandledError(logger: Logger, method: string, error: unknown): void {
  const triageError = asTriageError(error);
  const fields = { method, code: triageError.code, errorId: triageError.id, reason: triageError.message };
  if (triageError.code === 'INTERNAL') logger.error(fields, 'request failed');
  else logger.debug(fields, 'request refused');
}
