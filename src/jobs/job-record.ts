/**
 * A batch inference job's lifecycle (OpenAI's batch states plus `queued`):
 * validating -> queued -> in_progress -> finalizing -> completed | failed,
 * and from any non-terminal state: cancelling -> cancelled, or expired.
 */
export const JOB_STATUSES = ['validating', 'queued', 'in_progress', 'finalizing', 'completed', 'failed', 'cancelling', 'cancelled', 'expired'] as const;
export type JobStatus = typeof JOB_STATUSES[number];

export const TERMINAL_STATUSES: ReadonlySet<JobStatus> = new Set(['completed', 'failed', 'cancelled', 'expired']);

/** Each status's timestamp field, set once when the job enters it. */
export const STATUS_TIMESTAMPS: Readonly<Record<JobStatus, string>> = {
  validating: 'created_at',
  queued: 'queued_at',
  in_progress: 'in_progress_at',
  finalizing: 'finalizing_at',
  completed: 'completed_at',
  failed: 'failed_at',
  cancelling: 'cancelling_at',
  cancelled: 'cancelled_at',
  expired: 'expired_at',
};

/**
 * A job as stored (one Redis hash, `RedisKeys.job(id)`) and as the API shows it. Counts
 * are integers in the hash so scripts can HINCRBY them. Row payloads and results are
 * never here: they live encrypted in chunk blobs.
 */
export interface JobRecord {
  readonly id: string;
  readonly tenant_id: string;
  readonly model: string;
  /** '' = the version routing picks (Triton's default policy). */
  readonly model_version: string;
  readonly status: JobStatus;
  /** Triton `priority` for the job's requests (lower priority than online traffic by default). */
  readonly priority: number;
  /** Seconds after creation by which the job must end, else it expires. */
  readonly completion_window_s: number;
  readonly metadata: Readonly<Record<string, string>>;
  readonly request_counts: { readonly total: number; readonly completed: number; readonly failed: number };
  /** Rows per chunk; the last chunk may hold fewer. */
  readonly chunk_rows: number;
  readonly chunks_total: number;
  /** Chunks whose results are committed (exactly once each). */
  readonly chunks_done: number;
  readonly created_at: string;
  readonly queued_at: string | null;
  readonly in_progress_at: string | null;
  readonly finalizing_at: string | null;
  readonly completed_at: string | null;
  readonly failed_at: string | null;
  readonly cancelling_at: string | null;
  readonly cancelled_at: string | null;
  readonly expired_at: string | null;
  readonly expires_at: string;
  /** Why a job failed as a whole (validation found nothing runnable, model gone, ...). */
  readonly error: string | null;
}

/**
 * One input row as jobs stored it before the packed format (packed-rows.ts): a line of a
 * legacy JSONL chunk, KServe v2 JSON tensors without the batch dimension when the model
 * batches. Still read, for chunks of jobs queued across that upgrade.
 */
export interface JobRow {
  readonly custom_id: string;
  readonly inputs: Readonly<Record<string, { readonly datatype: string; readonly shape: readonly number[]; readonly data: unknown }>>;
}

/** A result line: `{"custom_id", "outputs": {NAME: nested array}}`. */
export interface JobResultLine {
  readonly custom_id: string;
  readonly outputs: Readonly<Record<string, unknown>>;
}

/** An error line: `{"custom_id", "error": {"code", "message"}}`; code is an error code (docs/errors.md) or `cancelled`/`expired`. */
export interface JobErrorLine {
  readonly custom_id: string;
  readonly error: { readonly code: string; readonly message: string; readonly retryable: boolean };
}
