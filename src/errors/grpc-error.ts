import { Metadata, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { errorCodeSpec } from './error-codes';
import { asTriageError } from './triage-error';

/**
 * Turns any thrown value into the status a gRPC handler sends. The message goes to the
 * client unchanged (Triton's clients match on its text); the error id travels in the
 * `triage-error-id` trailer so a support request can be matched to the log line.
 */
export function toGrpcStatus(error: unknown): Partial<StatusObject> & Pick<ServiceError, 'code' | 'details'> {
  const triageError = asTriageError(error);
  const metadata = new Metadata();
  metadata.set('triage-error-id', triageError.id);
  return { code: errorCodeSpec(triageError.code).grpc, details: triageError.message, metadata };
}
