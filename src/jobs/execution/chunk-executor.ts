import { TriageError } from '../../errors/triage-error';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import type { JobRecord } from '../job-record';
import type { JobStore } from '../job-store';
import type { BatchInference, InferTarget } from './batch-inference';
import { ChunkLines } from './chunk-lines';
import { classifyFailure, type CallFailure } from './classify-failure';
import { planBatches } from './plan-batches';
import { batchTensors } from './batch-tensors';
import { sameInputs, type PreparedRow } from './prepared-row';
import { readStoredRows } from './read-stored-rows';
import { stopReasonOf, stoppedRowError, type StopReason } from './stop-reason';

/** What executing a chunk did. */
export type ChunkOutcome =
  | { readonly kind: 'committed'; readonly rows: number; readonly completed: number; readonly failed: number;
      /** False when another execution had committed the chunk first (nothing was counted). */
      readonly firstCommit: boolean;
      /** Every chunk of the job is committed: the job can be finalized. */
      readonly jobDone: boolean }
  | { readonly kind: 'skipped'; readonly reason: 'done' | 'no-input' | 'stopped'; readonly stop: StopReason };

export interface ChunkExecutorDependencies {
  readonly store: JobStore;
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly inference: BatchInference;
}

/** A transient failure of a call: the chunk is retried later (or, on its last attempt, its remaining rows fail). */
class TransientFailure extends Error {
  constructor(readonly failure: CallFailure) {
    super(failure.message);
  }
}

/**
 * Executes one chunk of a job: its rows are stacked into batch tensors of at most the
 * model's max_batch_size, one ModelInfer per batch at the job's Triton priority. A batch
 * the model refuses is retried row by row, so a bad row fails alone. Between batches the
 * job's status is read: a cancelled or expired job stops within the chunk, its finished
 * rows kept and the others written as `cancelled`/`expired` errors. The chunk's lines are
 * committed exactly once (JobStore.commitChunk), so running a chunk twice (a crashed
 * worker, a duplicate dispatch) never counts a row twice.
 *
 * A transient failure (instance unavailable, deadline, model not loaded) throws, for the
 * queue to retry the chunk with backoff; on the last attempt it does not throw: the rows
 * not yet done become error lines with that failure (a poison chunk does not stop the job).
 */
export class ChunkExecutor {
  constructor(private readonly dependencies: ChunkExecutorDependencies) {}

  async execute(jobId: string, chunk: number, lastAttempt: boolean): Promise<ChunkOutcome> {
    const { store } = this.dependencies;
    // One round trip: the three reads go out together (the input is read even when it then goes unused).
    const [record, done, input] = await Promise.all([store.get(jobId), store.isChunkDone(jobId, chunk), store.getInput(jobId, chunk)]);
    const stop = stopReasonOf(record?.status);
    if (record === null || stop !== null) return { kind: 'skipped', reason: 'stopped', stop };
    if (done) return { kind: 'skipped', reason: 'done', stop: null };
    if (input === null) return { kind: 'skipped', reason: 'no-input', stop: null };
    if (record.status === 'queued') await store.transition(jobId, ['queued'], 'in_progress', new Date());
    const { rows: prepared, refused } = readStoredRows(input);
    const lines = new ChunkLines();
    for (const { customId, error } of refused) {
      const failure = classifyFailure(error);
      lines.error(customId, { code: failure.code, message: failure.message, retryable: false });
    }
    try {
      const stopped = await this.runRows(record, prepared, lines);
      if (stopped === 'ended') return { kind: 'skipped', reason: 'stopped', stop: stopped };
      if (stopped !== null) for (const row of prepared) lines.error(row.customId, stoppedRowError(stopped));
    } catch (error) {
      if (!(error instanceof TransientFailure)) throw error;
      if (!lastAttempt) throw new TriageError(error.failure.code, `chunk ${chunk} of job ${jobId}: ${error.failure.message}`, { cause: error });
      // Poison: the rows not done fail with the cause; the rows done are kept.
      for (const row of prepared) lines.error(row.customId, { code: error.failure.code, message: error.failure.message, retryable: true });
    }
    const commit = await store.commitChunk(jobId, chunk, lines.resultsJsonl(), lines.errorsJsonl(), lines.completed, lines.failed);
    return {
      kind: 'committed',
      rows: prepared.length + refused.length,
      completed: lines.completed,
      failed: lines.failed,
      firstCommit: commit.committed,
      jobDone: commit.chunksTotal > 0 && commit.chunksDone >= commit.chunksTotal,
    };
  }

  /** Runs the rows batch by batch; returns why it stopped early (rows not in `lines` did not run), or null. */
  private async runRows(record: JobRecord, rows: readonly PreparedRow[], lines: ChunkLines): Promise<StopReason> {
    if (rows.length === 0) return null;
    const target: InferTarget = { model: record.model, version: record.model_version, priority: record.priority };
    let maxBatchSize: number;
    try {
      maxBatchSize = await this.dependencies.inference.maxBatchSize(target.model, target.version);
    } catch (error) {
      throw asTransient(error);
    }
    const batches = planBatches(rows, maxBatchSize, sameInputs);
    for (const [index, batch] of batches.entries()) {
      // The status was read just before the first batch; before each later one it is read again.
      const stop = index === 0 ? null : stopReasonOf(await this.dependencies.redis.hget(this.dependencies.keys.job(record.id), 'status'));
      if (stop !== null) return stop;
      await this.runBatch(target, batch, maxBatchSize > 0, lines);
    }
    return null;
  }

  /** One call for the batch; when the model refuses it, one call per row to find the bad ones. */
  private async runBatch(target: InferTarget, batch: readonly PreparedRow[], batched: boolean, lines: ChunkLines): Promise<void> {
    const { tensors, rows, refused } = batchTensors(batch, batched);
    for (const { row, error } of refused) {
      const failure = classifyFailure(error);
      lines.error(row.customId, { code: failure.code, message: failure.message, retryable: false });
    }
    if (rows.length === 0) return;
    try {
      const outputs = await this.dependencies.inference.infer(target, tensors, rows.length, batched);
      rows.forEach((row, index) => lines.result(row.customId, outputs[index] ?? '{}'));
      return;
    } catch (error) {
      const failure = classifyFailure(error);
      if (failure.kind === 'transient') throw new TransientFailure(failure);
      if (rows.length === 1) {
        lines.error((rows[0] as PreparedRow).customId, { code: failure.code, message: failure.message, retryable: false });
        return;
      }
    }
    for (const row of rows) await this.runBatch(target, [row], batched, lines);
  }
}

function asTransient(error: unknown): TransientFailure {
  const failure = classifyFailure(error);
  return new TransientFailure({ ...failure, kind: 'transient' });
}
