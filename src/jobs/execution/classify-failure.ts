import { status } from '@grpc/grpc-js';
import type { ErrorCode } from '../../errors/error-codes';
import { isTriageError } from '../../errors/triage-error';

/**
 * What a failed inference call means for a job: `row` when the rows sent are at fault
 * (the model refused or failed on them: isolate them, then write error lines), `transient`
 * when a later attempt may succeed (instance gone, overloaded, too slow, model not
 * loaded right now: retry the chunk with backoff).
 */
export interface CallFailure {
  readonly kind: 'row' | 'transient';
  readonly code: ErrorCode;
  readonly message: string;
}

const GRPC: Readonly<Partial<Record<status, { code: ErrorCode; kind: CallFailure['kind'] }>>> = {
  [status.CANCELLED]: { code: 'CANCELLED', kind: 'transient' },
  [status.UNKNOWN]: { code: 'INTERNAL', kind: 'transient' },
  [status.INVALID_ARGUMENT]: { code: 'INVALID_ARGUMENT', kind: 'row' },
  [status.DEADLINE_EXCEEDED]: { code: 'DEADLINE_EXCEEDED', kind: 'transient' },
  [status.NOT_FOUND]: { code: 'NOT_FOUND', kind: 'transient' },
  [status.ALREADY_EXISTS]: { code: 'INVALID_ARGUMENT', kind: 'row' },
  [status.PERMISSION_DENIED]: { code: 'PERMISSION_DENIED', kind: 'transient' },
  [status.RESOURCE_EXHAUSTED]: { code: 'QUOTA_EXCEEDED', kind: 'transient' },
  [status.FAILED_PRECONDITION]: { code: 'INVALID_ARGUMENT', kind: 'row' },
  [status.ABORTED]: { code: 'UNAVAILABLE', kind: 'transient' },
  [status.OUT_OF_RANGE]: { code: 'INVALID_ARGUMENT', kind: 'row' },
  [status.UNIMPLEMENTED]: { code: 'UNIMPLEMENTED', kind: 'row' },
  [status.INTERNAL]: { code: 'INTERNAL', kind: 'row' },
  [status.UNAVAILABLE]: { code: 'UNAVAILABLE', kind: 'transient' },
  [status.DATA_LOSS]: { code: 'INTERNAL', kind: 'row' },
  [status.UNAUTHENTICATED]: { code: 'UNAUTHENTICATED', kind: 'transient' },
};

const TRANSIENT_CODES: ReadonlySet<ErrorCode> = new Set(['UNAVAILABLE', 'DEADLINE_EXCEEDED', 'NOT_FOUND', 'QUOTA_EXCEEDED', 'BUDGET_EXHAUSTED', 'CANCELLED', 'CONFLICT', 'UNAUTHENTICATED', 'PERMISSION_DENIED']);

/** Classifies what routedCall (router TriageError, instance gRPC status) or building a request threw. */
export function classifyFailure(error: unknown): CallFailure {
  if (isTriageError(error)) return { kind: TRANSIENT_CODES.has(error.code) ? 'transient' : 'row', code: error.code, message: error.message };
  if (typeof error === 'object' && error !== null && typeof (error as { code?: unknown }).code === 'number') {
    const grpc = error as { code: status; details?: unknown; message?: unknown };
    const mapped = GRPC[grpc.code] ?? { code: 'INTERNAL', kind: 'transient' };
    const message = typeof grpc.details === 'string' ? grpc.details : String(grpc.message ?? 'inference failed');
    return { ...mapped, message };
  }
  // A row whose values do not fit its datatype or shape, or outputs that cannot be cut per row.
  return { kind: 'row', code: error instanceof RangeError || error instanceof TypeError ? 'INVALID_ARGUMENT' : 'INTERNAL', message: error instanceof Error ? error.message : String(error) };
}
