import type { JobErrorLine } from '../job-record';

/**
 * What a job's status means for work on its chunks: null to go on; `cancelled` or
 * `expired` to stop and give the rows not run an error line of that code; `ended` to
 * stop without writing anything (the job completed, failed, or is gone).
 */
export type StopReason = 'cancelled' | 'expired' | 'ended' | null;

export function stopReasonOf(status: string | null | undefined): StopReason {
  switch (status) {
    case 'cancelling':
    case 'cancelled':
      return 'cancelled';
    case 'expired':
      return 'expired';
    case 'completed':
    case 'failed':
    case null:
    case undefined:
      return 'ended';
    default:
      return null;
  }
}

/** The error of a row that never ran because its job was cancelled or expired. */
export function stoppedRowError(reason: 'cancelled' | 'expired'): JobErrorLine['error'] {
  return reason === 'cancelled'
    ? { code: 'cancelled', message: 'the job was cancelled before this row ran', retryable: false }
    : { code: 'expired', message: 'the job expired (its completion window ended) before this row ran', retryable: true };
}
