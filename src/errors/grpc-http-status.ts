import { status as GrpcStatus } from '@grpc/grpc-js';

/**
 * The HTTP status triage answers on its REST port for a gRPC status received from a
 * Triton instance (error-codes.ts maps triage's own error codes; this table maps the
 * instance's, whose message passes through unchanged).
 *
 * Triton's HTTP frontend maps INTERNAL to 500, NOT_FOUND to 404, UNAVAILABLE to 503,
 * UNSUPPORTED (gRPC UNIMPLEMENTED) to 501 and every other error to 400; the same status
 * reaches a client whether it talks to Triton or to triage. The one exception is
 * DEADLINE_EXCEEDED, which no Triton sends: it comes from the deadline triage itself set
 * from the client's timeout header, so it is a gateway timeout (504), as for
 * TriageError DEADLINE_EXCEEDED. RESOURCE_EXHAUSTED stays 400, not 429: grpc-js raises it
 * for a message over the size limit, which a retry does not cure.
 */
const GRPC_HTTP_STATUS: Readonly<Record<Exclude<GrpcStatus, GrpcStatus.OK>, number>> = {
  [GrpcStatus.CANCELLED]: 400,
  [GrpcStatus.UNKNOWN]: 400,
  [GrpcStatus.INVALID_ARGUMENT]: 400,
  [GrpcStatus.DEADLINE_EXCEEDED]: 504,
  [GrpcStatus.NOT_FOUND]: 404,
  [GrpcStatus.ALREADY_EXISTS]: 400,
  [GrpcStatus.PERMISSION_DENIED]: 400,
  [GrpcStatus.RESOURCE_EXHAUSTED]: 400,
  [GrpcStatus.FAILED_PRECONDITION]: 400,
  [GrpcStatus.ABORTED]: 400,
  [GrpcStatus.OUT_OF_RANGE]: 400,
  [GrpcStatus.UNIMPLEMENTED]: 501,
  [GrpcStatus.INTERNAL]: 500,
  [GrpcStatus.UNAVAILABLE]: 503,
  [GrpcStatus.DATA_LOSS]: 400,
  [GrpcStatus.UNAUTHENTICATED]: 400,
};

/** The HTTP status for an instance's gRPC error status (500 for OK, which is no error). */
export function httpStatusOfGrpc(code: GrpcStatus): number {
  return code === GrpcStatus.OK ? 500 : GRPC_HTTP_STATUS[code];
}
