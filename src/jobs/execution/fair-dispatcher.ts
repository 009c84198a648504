import type { Queue } from 'bullmq';
import type { Logger } from '../../observability/logger';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import { pipelinesBySlot, resultsOrThrow } from '../../redis/slot-batches';
import type { JobStore } from '../job-store';
import { parseChunkRef } from './chunk-ref';
import { CHUNK_QUEUE, chunkJobId, chunkJobOptions, type ChunkJobData, type ChunkRetryPolicy } from './chunk-queue';
import type { DispatchScripts } from './dispatch-scripts';
import type { JobFinalizer } from './job-finalizer';
import { stopReasonOf } from './stop-reason';

export interface FairDispatcherOptions {
  /** Chunks in flight over every worker (queue.setGlobalConcurrency); the queue holds at most twice this. */
  readonly globalConcurrency: number;
  /** How often the queue's depth is checked when nothing wakes the dispatcher. */
  readonly intervalMs: number;
  /** A chunk ref in flight this long is checked: handed to BullMQ again if its BullMQ job is gone or failed. */
  readonly staleMs: number;
  readonly retry: ChunkRetryPolicy;
  readonly logger: Logger;
}

/** Passes triggered by finished chunks are at least this far apart (each pass costs several Redis round trips). */
const WAKE_SPACING_MS = 50;
/** Refs checked per in-flight sweep. */
const STALE_PAGE = 100;
const QUEUED_STATES = ['wait', 'active', 'delayed', 'prioritized', 'waiting-children'] as const;

/**
 * Moves chunks from the tenants' backlogs into the one BullMQ queue, round-robin over the
 * tenants (dispatch-next-2.lua), keeping the queue shallow (at most twice the global
 * concurrency) so the order of work is decided as late as possible: a tenant with one
 * job waits behind at most one queue's depth of another tenant's chunks, not its backlog.
 * Chunks of cancelled or ended jobs are dropped here.
 *
 * Crash safety: a ref taken from a backlog stays in the in-flight set until its chunk is
 * processed; a ref there for longer than staleMs whose BullMQ job is missing (the
 * dispatcher died between taking and adding, or Redis lost the add) or failed is added
 * again. Executing a chunk twice is harmless: commitChunk is exactly-once.
 *
 * Several processes may dispatch at once: each take is atomic; the depth check is not,
 * so the queue may briefly exceed its bound by one batch per process.
 */
export class FairDispatcher {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private wakeRequested = false;
  private stopped = false;
  private lastStaleSweepMs = 0;
  private lastPassMs = 0;
  private lastErrorLogMs = 0;

  constructor(
    private readonly queue: Queue<ChunkJobData>,
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly store: JobStore,
    private readonly scripts: DispatchScripts,
    private readonly finalizer: JobFinalizer,
    private readonly options: FairDispatcherOptions,
  ) {}

  async start(): Promise<void> {
    await this.queue.setGlobalConcurrency(this.options.globalConcurrency);
    this.schedule(0);
  }

  /** Dispatch soon (a chunk finished, so the queue has room). Coalesced with a pass running or planned. */
  wake(): void {
    if (this.stopped) return;
    if (this.running !== null) {
      this.wakeRequested = true;
      return;
    }
    this.schedule(Math.max(0, this.lastPassMs + WAKE_SPACING_MS - Date.now()));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass: fills the queue up to its bound; returns the number of refs taken (added, or dropped for a stopped job). */
  async dispatchOnce(nowMs = Date.now()): Promise<number> {
    if (nowMs - this.lastStaleSweepMs >= this.options.staleMs / 2) {
      this.lastStaleSweepMs = nowMs;
      await this.sweepStale(nowMs);
    }
    const counts = await this.queue.getJobCounts(...QUEUED_STATES);
    const depth = QUEUED_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    const room = 2 * this.options.globalConcurrency - depth;
    if (room <= 0) return 0;
    const refs = await this.scripts.dispatchNext(room, nowMs);
    if (refs.length === 0) return 0;
    const chunks = refs.map((ref) => ({ ref, parsed: parseChunkRef(ref) }));
    const jobIds = [...new Set(chunks.map(({ parsed }) => parsed?.jobId).filter((id): id is string => id !== undefined))];
    const pipeline = pipelinesBySlot(this.redis);
    for (const id of jobIds) pipeline.on(this.keys.job(id)).hmget(this.keys.job(id), 'status', 'expires_at');
    // A failed read throws (the refs stay in flight and are swept again), never reads as a job that is gone.
    const replies = resultsOrThrow(await pipeline.exec());
    const jobs = new Map(jobIds.map((id, index) => [id, (replies[index] ?? [null, null]) as (string | null)[]]));
    const adds: { name: string; data: ChunkJobData; opts: ReturnType<typeof chunkJobOptions> }[] = [];
    const dropped: string[] = [];
    for (const { ref, parsed } of chunks) {
      const status = parsed === null ? null : jobs.get(parsed.jobId)?.[0] ?? null;
      if (parsed === null || stopReasonOf(status) !== null) {
        dropped.push(ref);
        if (parsed !== null && status === 'cancelling') void this.finalizer.settle(parsed.jobId).catch((error: unknown) => this.logError(error));
        continue;
      }
      adds.push({ name: 'chunk', data: parsed, opts: chunkJobOptions(parsed.jobId, parsed.chunk, this.options.retry) });
    }
    if (dropped.length > 0) await this.redis.zrem(this.keys.jobInflight(), ...dropped);
    if (adds.length > 0) await this.queue.addBulk(adds);
    // The open index normally comes from enqueueJob; a job queued another way joins it here.
    const open = this.redis.pipeline();
    for (const [id, [status, expiresAt]] of jobs) {
      const expiresAtMs = Date.parse(expiresAt ?? '');
      if (stopReasonOf(status) === null && Number.isFinite(expiresAtMs)) open.zadd(this.keys.jobsOpen(), 'NX', expiresAtMs, id);
    }
    await open.exec();
    return refs.length;
  }

  /**
   * Refs in flight for longer than staleMs: committed ones are forgotten, live BullMQ jobs
   * (waiting, active, delayed) are touched, missing or failed ones are added again.
   */
  private async sweepStale(nowMs: number): Promise<void> {
    const stale = await this.redis.zrangebyscore(this.keys.jobInflight(), '-inf', nowMs - this.options.staleMs, 'LIMIT', 0, STALE_PAGE);
    for (const ref of stale) {
      const parsed = parseChunkRef(ref);
      if (parsed === null || await this.store.isChunkDone(parsed.jobId, parsed.chunk)) {
        await this.redis.zrem(this.keys.jobInflight(), ref);
        continue;
      }
      const job = await this.queue.getJob(chunkJobId(parsed.jobId, parsed.chunk));
      const state = job === undefined ? 'missing' : await job.getState();
      if (state === 'missing' || state === 'unknown' || state === 'failed' || state === 'completed') {
        if (job !== undefined && state !== 'unknown') await job.remove().catch(() => undefined);
        await this.queue.add('chunk', parsed, chunkJobOptions(parsed.jobId, parsed.chunk, this.options.retry));
        this.options.logger.warn({ job: parsed.jobId, chunk: parsed.chunk, state }, 'chunk in flight without a live queue job: queued again');
      }
      await this.redis.zadd(this.keys.jobInflight(), 'XX', nowMs, ref);
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = null;
      this.lastPassMs = Date.now();
      this.running = this.dispatchOnce().catch((error: unknown) => {
        this.logError(error);
        return 0;
      }).then((taken) => {
        this.running = null;
        const again = this.wakeRequested || taken > 0;
        this.wakeRequested = false;
        this.schedule(again ? WAKE_SPACING_MS : this.options.intervalMs);
      });
    }, delayMs);
  }

  /** Logged at most every 10 s: while Redis is down every pass fails the same way. */
  private logError(error: unknown): void {
    if (Date.now() - this.lastErrorLogMs < 10_000) return;
    this.lastErrorLogMs = Date.now();
    this.options.logger.warn({ queue: CHUNK_QUEUE, reason: (error as Error).message }, 'chunk dispatch failed; retrying');
  }
}
