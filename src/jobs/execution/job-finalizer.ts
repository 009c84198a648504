import { defineLeaseScripts, type LeaseScripts } from '../../controller/lease-scripts';
import type { Logger } from '../../observability/logger';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import { pipelinesBySlot, resultsOrThrow } from '../../redis/slot-batches';
import type { JobRecord, JobStatus } from '../job-record';
import type { JobStore } from '../job-store';
import { commitChunkAsErrors } from './commit-chunk-as-errors';
import { stoppedRowError } from './stop-reason';

export interface JobFinalizerOptions {
  /** How long every key of an ended job is kept (its inputs are deleted at once). */
  readonly retentionMs: number;
  /** Unique per process: settle locks are held under this name. */
  readonly owner: string;
  readonly logger: Logger;
}

const LOCK_MS = 60_000;
/** Chunks filled at once (their reads and commits overlap). */
const FILL_PARALLEL = 4;
/** Commands per pipeline when expiring a job's keys. */
const PIPELINE_BATCH = 1000;
const RUNNING: readonly JobStatus[] = ['validating', 'queued', 'in_progress'];

type Locked<T> = (holder: string) => Promise<T>;

/**
 * Ends jobs, each exactly once whatever the number of processes doing it. Every end step
 * runs under the job's settle lock (one holder at a time, across processes):
 * - complete: every chunk committed -> finalizing -> completed;
 * - expire: past expires_at, the chunks never committed are committed as `expired` error
 *   lines, then the job moves to expired (completing one whose chunks are all done);
 * - settle: a cancelling job's never-committed chunks as `cancelled` lines, then
 *   cancelling -> cancelled; an ended job is brought to rest.
 * The status becomes terminal only after the fill, so a reader who sees it finds every
 * custom_id exactly once across results and errors. Missing rows are written through
 * commitChunk, which commits each chunk once (a worker finishing the chunk at the same
 * moment wins with real results, or loses and counts nothing). At the end the inputs are
 * deleted and every other key expires after the retention.
 */
export class JobFinalizer {
  private readonly leases: LeaseScripts;
  /** Settles running in this process, by job: a second request for the same job joins the first. */
  private readonly settling = new Map<string, Promise<void>>();
  private lockCount = 0;

  constructor(private readonly store: JobStore, private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly options: JobFinalizerOptions) {
    this.leases = defineLeaseScripts(redis);
  }

  /** Every chunk committed: the job completes. Returns at once when another holder works on the job (the sweeper comes back). */
  async complete(jobId: string): Promise<void> {
    await this.withLock(jobId, async () => {
      const record = await this.store.get(jobId);
      if (record !== null) await this.completeLocked(record);
    });
  }

  /** The job's completion window has passed: the rows never run become `expired` errors, then it expires. */
  async expire(jobId: string, nowMs: number): Promise<void> {
    await this.withLock(jobId, async (holder) => {
      const record = await this.store.get(jobId);
      const expiresAtMs = Date.parse(record?.expires_at ?? '');
      if (record === null || (!RUNNING.includes(record.status) && record.status !== 'finalizing') || !Number.isFinite(expiresAtMs) || expiresAtMs > nowMs) return;
      if (record.chunks_total > 0 && record.chunks_done >= record.chunks_total) {
        await this.completeLocked(record);
        return;
      }
      await this.fill(record, 'expired', holder);
      if (await this.store.transition(jobId, [...RUNNING, 'finalizing'], 'expired', new Date()) === '') return;
      this.options.logger.info({ job: jobId, chunksDone: record.chunks_done, chunksTotal: record.chunks_total }, 'job expired');
      await this.retain(record);
    });
  }

  /**
   * Brings a stopped or ended job to rest: a cancelling job gets its rows never run as
   * `cancelled` errors and ends cancelled; an ended job's missing rows are filled (after a
   * crash mid-fill) and its retention starts; a running job whose chunks are all done
   * completes. Idempotent.
   */
  settle(jobId: string): Promise<void> {
    const running = this.settling.get(jobId);
    if (running !== undefined) return running;
    const settled = this.withLock(jobId, (holder) => this.settleLocked(jobId, holder)).finally(() => this.settling.delete(jobId));
    this.settling.set(jobId, settled);
    return settled;
  }

  /** Settles the job now if it is being cancelled (workers and the dispatcher notice it first; the sweeper would within a pass). */
  async settleIfCancelling(jobId: string): Promise<void> {
    if (await this.redis.hget(this.keys.job(jobId), 'status') === 'cancelling') await this.settle(jobId);
  }

  /** Resolves when every settle running in this process has ended (for a clean stop). */
  async drain(): Promise<void> {
    await Promise.allSettled([...this.settling.values()]);
  }

  private async settleLocked(jobId: string, holder: string): Promise<void> {
    const record = await this.store.get(jobId);
    if (record === null) {
      await this.redis.zrem(this.keys.jobsOpen(), jobId);
      return;
    }
    switch (record.status) {
      case 'cancelling':
        await this.fill(record, 'cancelled', holder);
        if (await this.store.transition(jobId, ['cancelling'], 'cancelled', new Date()) === 'cancelling') {
          this.options.logger.info({ job: jobId }, 'job cancelled');
          await this.retain(record);
        }
        return;
      case 'cancelled':
      case 'expired':
        await this.fill(record, record.status, holder);
        await this.retain(record);
        return;
      case 'completed':
      case 'failed':
        await this.retain(record);
        return;
      default:
        await this.completeLocked(record);
    }
  }

  private async completeLocked(record: JobRecord): Promise<void> {
    if (record.chunks_total === 0 || record.chunks_done < record.chunks_total) return;
    const now = new Date();
    if (RUNNING.includes(record.status)) await this.store.transition(record.id, RUNNING, 'finalizing', now);
    if (await this.store.transition(record.id, ['finalizing'], 'completed', now) === 'finalizing') {
      this.options.logger.info({ job: record.id, rows: record.request_counts.total }, 'job completed');
      await this.retain(record);
    }
  }

  /**
   * Runs `work` holding the job's settle lock under a name of its own (so a second step
   * in this process waits its turn like one elsewhere); returns without running it when
   * the lock is held.
   */
  private async withLock(jobId: string, work: Locked<void>): Promise<void> {
    const lock = this.keys.jobSettleLock(jobId);
    this.lockCount += 1;
    const holder = `${this.options.owner}:${this.lockCount}`;
    if (await this.leases.acquire(lock, holder, LOCK_MS) !== -1) return;
    try {
      await work(holder);
    } finally {
      await this.leases.release(lock, holder).catch(() => undefined);
    }
  }

  /** Commits every chunk not yet committed as error lines of `reason`, renewing the lock as it goes. */
  private async fill(record: JobRecord, reason: 'cancelled' | 'expired', holder: string): Promise<void> {
    const done = new Set(await this.redis.smembers(this.keys.jobDone(record.id)));
    const missing: number[] = [];
    for (let chunk = 0; chunk < record.chunks_total; chunk++) if (!done.has(String(chunk))) missing.push(chunk);
    let filled = 0;
    let renewedMs = Date.now();
    const lock = this.keys.jobSettleLock(record.id);
    const next = async (): Promise<void> => {
      for (let chunk = missing.shift(); chunk !== undefined; chunk = missing.shift()) {
        if (await commitChunkAsErrors(this.store, record, chunk, stoppedRowError(reason), this.options.logger) !== null) filled += 1;
        if (Date.now() - renewedMs > LOCK_MS / 3) {
          renewedMs = Date.now();
          await this.leases.renew(lock, holder, LOCK_MS);
        }
      }
    };
    await Promise.all(Array.from({ length: FILL_PARALLEL }, next));
    if (filled > 0) this.options.logger.info({ job: record.id, chunks: filled, reason }, 'rows that never ran written as errors');
  }

  /** Deletes the inputs and lets every other key of the job expire after the retention; the job leaves the open index. */
  private async retain(record: JobRecord): Promise<void> {
    const { id } = record;
    const expireAtMs = Date.now() + this.options.retentionMs;
    // The job's keys share one slot ({j:<id>}); the indexes are in {jobs}.
    let pipeline = pipelinesBySlot(this.redis);
    const flush = async (): Promise<void> => {
      if (pipeline.length === 0) return;
      resultsOrThrow(await pipeline.exec());
      pipeline = pipelinesBySlot(this.redis);
    };
    pipeline.on(this.keys.job(id)).pexpire(this.keys.job(id), this.options.retentionMs);
    pipeline.on(this.keys.jobDone(id)).pexpire(this.keys.jobDone(id), this.options.retentionMs);
    for (let chunk = 0; chunk < record.chunks_total; chunk++) {
      pipeline.on(this.keys.jobInput(id, chunk)).del(this.keys.jobInput(id, chunk));
      pipeline.on(this.keys.jobResults(id, chunk)).pexpire(this.keys.jobResults(id, chunk), this.options.retentionMs);
      pipeline.on(this.keys.jobErrors(id, chunk)).pexpire(this.keys.jobErrors(id, chunk), this.options.retentionMs);
      if (pipeline.length >= PIPELINE_BATCH) await flush();
    }
    // The job leaves the open index only once its keys expire: a failure before leaves it there for the next sweep.
    await flush();
    pipeline.on(this.keys.jobsRetained()).zadd(this.keys.jobsRetained(), expireAtMs, `${record.tenant_id} ${id}`);
    pipeline.on(this.keys.jobsOpen()).zrem(this.keys.jobsOpen(), id);
    await flush();
  }
}
