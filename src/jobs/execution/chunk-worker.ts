import { Worker, type Job } from 'bullmq';
import { asTriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import type { JobStore } from '../job-store';
import type { ChunkExecutor, ChunkOutcome } from './chunk-executor';
import { bullConnection, CHUNK_QUEUE, type ChunkJobData } from './chunk-queue';
import { chunkRef } from './chunk-ref';
import { commitChunkAsErrors } from './commit-chunk-as-errors';
import type { DispatchScripts } from './dispatch-scripts';
import type { JobFinalizer } from './job-finalizer';

export interface ChunkWorkerOptions {
  readonly redisUrl: string;
  /** BullMQ's key prefix (RedisKeys.bullPrefix()). */
  readonly prefix: string;
  /** Chunks this process executes at once. */
  readonly concurrency: number;
  /**
   * A chunk whose worker stopped renewing its lock (killed, hung) for this long is taken
   * over by another worker (BullMQ lockDuration; stalled jobs are looked for every half).
   */
  readonly stallTimeoutMs: number;
  readonly logger: Logger;
  /** Called after every chunk (the dispatcher refills the queue). */
  readonly onChunkDone: () => void;
  /** Called with the rows of each chunk this worker committed first: a chunk run twice is counted once, where it was committed. */
  readonly onRowsDone?: (completed: number, failed: number) => void;
}

/**
 * The BullMQ worker of the `chunks` queue, on its own connections (BullMQ owns them:
 * blocking, maxRetriesPerRequest null). Each job executes one chunk; after it, the ref
 * leaves the in-flight set, and a job whose chunks are all committed is completed, a
 * cancelled one settled. On a chunk's last attempt a failure that is not the rows' fault
 * still ends in a commit (its rows as error lines), so a poison chunk never blocks its job.
 */
export class ChunkWorker {
  private worker: Worker<ChunkJobData> | null = null;
  /** Closes what BullMQ leaves open of the worker's connection (see bullConnection), once the worker is closed. */
  private releaseConnection: () => Promise<void> = () => Promise.resolve();
  private lastErrorLogMs = 0;

  constructor(
    private readonly executor: ChunkExecutor,
    private readonly store: JobStore,
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly finalizer: JobFinalizer,
    private readonly scripts: DispatchScripts,
    private readonly options: ChunkWorkerOptions,
  ) {}

  start(): void {
    const { connection, release } = bullConnection(this.options.redisUrl, 'triage:jobs-worker', true);
    this.releaseConnection = release;
    const worker = new Worker<ChunkJobData>(CHUNK_QUEUE, (job) => this.process(job), {
      connection,
      prefix: this.options.prefix,
      concurrency: this.options.concurrency,
      lockDuration: this.options.stallTimeoutMs,
      stalledInterval: Math.max(500, Math.floor(this.options.stallTimeoutMs / 2)),
      // A chunk may be interrupted by a few rollouts or crashes before it counts as failed.
      maxStalledCount: 5,
    });
    worker.on('error', (error) => this.logError(error));
    worker.on('failed', (job, error) => {
      if (job === undefined) return;
      this.options.logger.warn({ job: job.data.jobId, chunk: job.data.chunk, attempt: job.attemptsMade, reason: error.message }, 'chunk attempt failed');
    });
    this.worker = worker;
  }

  /**
   * Stops taking chunks and waits for those running, at most timeoutMs; then the rest are
   * abandoned (their locks expire and another worker takes them over). Idempotent.
   */
  async close(timeoutMs: number): Promise<void> {
    const worker = this.worker;
    if (worker === null) return;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), timeoutMs); });
    const closed = await Promise.race([worker.close().then(() => false), timedOut]);
    clearTimeout(timer);
    if (closed) await worker.close(true);
    await this.releaseConnection();
  }

  private async process(job: Job<ChunkJobData>): Promise<string> {
    const { jobId, chunk } = job.data;
    const lastAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
    let outcome: ChunkOutcome;
    try {
      outcome = await this.executor.execute(jobId, chunk, lastAttempt);
    } catch (error) {
      if (!lastAttempt) throw asError(error);
      outcome = await this.commitPoison(jobId, chunk, error);
    }
    await Promise.all([
      this.redis.zrem(this.keys.jobInflight(), chunkRef(jobId, chunk)),
      outcome.kind === 'committed' && outcome.firstCommit ? this.scripts.recordProgress(jobId, outcome.rows, Date.now()) : null,
    ]);
    if (outcome.kind === 'committed' && outcome.firstCommit) this.options.onRowsDone?.(outcome.completed, outcome.failed);
    if (outcome.kind === 'committed' && outcome.jobDone) await this.finalizer.complete(jobId);
    // Settling a cancelled job may take a while (its rows never run are written): it does not hold this worker slot.
    if (outcome.kind === 'skipped' && outcome.stop === 'cancelled') void this.finalizer.settleIfCancelling(jobId).catch((error: unknown) => this.logError(error as Error));
    this.options.onChunkDone();
    return outcome.kind;
  }

  /** The last attempt failed for a reason other than the rows (e.g. an unreadable input): the chunk's rows fail with it. */
  private async commitPoison(jobId: string, chunk: number, error: unknown): Promise<ChunkOutcome> {
    const failure = asTriageError(error);
    this.options.logger.error({ job: jobId, chunk, code: failure.code, errorId: failure.id, reason: failure.message }, 'chunk failed on its last attempt; its rows are written as errors');
    const record = await this.store.get(jobId);
    if (record === null) return { kind: 'skipped', reason: 'stopped', stop: 'ended' };
    const rows = await commitChunkAsErrors(this.store, record, chunk, { code: failure.code, message: failure.message, retryable: true }, this.options.logger);
    const after = await this.store.get(jobId);
    const jobDone = after !== null && after.chunks_total > 0 && after.chunks_done >= after.chunks_total;
    return { kind: 'committed', rows: rows ?? 0, completed: 0, failed: rows ?? 0, firstCommit: rows !== null, jobDone };
  }

  /** Logged at most every 10 s: while Redis is down the worker reports every reconnect attempt. */
  private logError(error: Error): void {
    if (Date.now() - this.lastErrorLogMs < 10_000) return;
    this.lastErrorLogMs = Date.now();
    this.options.logger.warn({ queue: CHUNK_QUEUE, reason: error.message }, 'chunk worker error; it keeps retrying');
  }
}

/** BullMQ needs Error objects to record a failure. */
function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}
