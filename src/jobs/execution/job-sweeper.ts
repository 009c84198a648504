import type { Logger } from '../../observability/logger';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import { pipelinesBySlot, resultsOrThrow } from '../../redis/slot-batches';
import type { JobFinalizer } from './job-finalizer';
import { stopReasonOf } from './stop-reason';

export interface JobSweeperOptions {
  readonly intervalMs: number;
  readonly logger: Logger;
}

/** Open jobs looked at per pass (besides every one past its expiry). */
const PAGE = 200;

/**
 * The periodic pass over open jobs (RedisKeys.jobsOpen: not yet settled), so nothing
 * depends on the process that was working on a job staying alive:
 * - past expires_at and not ended: expire it (completion_window);
 * - cancelling, or ended but not settled: settle it (fill the rows never run, end it,
 *   start the retention);
 * - every chunk committed but not completed (the worker died in between): complete it.
 * It also drops jobs whose retention ran out from their tenant's job index. Every step is
 * idempotent, so any number of processes may sweep at once.
 */
export class JobSweeper {
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private cursor = 0;
  private stopped = false;
  private lastErrorLogMs = 0;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly finalizer: JobFinalizer, private readonly options: JobSweeperOptions) {}

  start(): void {
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    await this.running;
  }

  /** One pass; resolves when its work is done. */
  async sweepOnce(nowMs = Date.now()): Promise<void> {
    const open = this.keys.jobsOpen();
    const due = await this.redis.zrangebyscore(open, '-inf', nowMs, 'LIMIT', 0, PAGE);
    const size = await this.redis.zcard(open);
    if (this.cursor >= size) this.cursor = 0;
    const page = await this.redis.zrange(open, this.cursor, this.cursor + PAGE - 1);
    this.cursor += PAGE;
    const ids = [...new Set([...due, ...page])];
    const pipeline = pipelinesBySlot(this.redis);
    for (const id of ids) pipeline.on(this.keys.job(id)).hmget(this.keys.job(id), 'status', 'chunks_done', 'chunks_total', 'expires_at');
    // A failed read throws (the pass is retried), never reads as a job that is gone.
    const replies = resultsOrThrow(await pipeline.exec());
    for (const [index, id] of ids.entries()) {
      const [status, done, total, expiresAt] = (replies[index] ?? []) as (string | null)[];
      if (this.stopped) return;
      if (status === null || status === undefined) {
        await this.redis.zrem(open, id);
      } else if (stopReasonOf(status) !== null) {
        await this.finalizer.settle(id);
      } else if (Date.parse(expiresAt ?? '') <= nowMs) {
        await this.finalizer.expire(id, nowMs);
      } else if (Number(total) > 0 && Number(done) >= Number(total)) {
        await this.finalizer.complete(id);
      }
    }
    await this.dropRetained(nowMs);
  }

  private async dropRetained(nowMs: number): Promise<void> {
    const members = await this.redis.zrangebyscore(this.keys.jobsRetained(), '-inf', nowMs, 'LIMIT', 0, PAGE);
    if (members.length === 0) return;
    // The tenants' indexes first, then the retained entries that point there (a failure leaves them for the next pass).
    const pipeline = pipelinesBySlot(this.redis);
    for (const member of members) {
      const [tenantId, jobId] = member.split(' ');
      if (tenantId !== undefined && jobId !== undefined) pipeline.on(this.keys.tenantJobs(tenantId)).zrem(this.keys.tenantJobs(tenantId), jobId);
    }
    resultsOrThrow(await pipeline.exec());
    await this.redis.zrem(this.keys.jobsRetained(), ...members);
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.sweepOnce().catch((error: unknown) => this.logError(error)).finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.options.intervalMs);
  }

  /** Logged at most every 10 s: while Redis is down every pass fails the same way. */
  private logError(error: unknown): void {
    if (Date.now() - this.lastErrorLogMs < 10_000) return;
    this.lastErrorLogMs = Date.now();
    this.options.logger.warn({ reason: (error as Error).message }, 'job sweep failed; retrying');
  }
}
