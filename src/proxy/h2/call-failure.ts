import { status } from '@grpc/grpc-js';
import { errorCodeSpec } from '../../errors/error-codes';
import { isTriageError } from '../../errors/triage-error';
import { QuotaRefusal } from '../../tenancy/quota-refusal';
import type { CallFailure } from './proxied-call';

/** The gRPC answer for anything the routing layer throws: a TriageError's mapped status (with quota metadata), else INTERNAL. */
export function failureOf(error: unknown): CallFailure {
  if (error instanceof QuotaRefusal) return { code: errorCodeSpec(error.code).grpc, message: error.message, headers: error.headers(), refusedBy: error.limit };
  if (isTriageError(error)) return { code: errorCodeSpec(error.code).grpc, message: error.message };
  if (typeof error === 'object' && error !== null && 'code' in error && 'message' in error && typeof (error as CallFailure).code === 'number') {
    return error as CallFailure;
  }
  return { code: status.INTERNAL, message: error instanceof Error ? error.message : String(error) };
}
