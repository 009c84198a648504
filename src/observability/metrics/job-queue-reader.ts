import type { RedisClient } from '../../redis/redis-client';
import { parseChunkRef } from '../../jobs/execution/chunk-ref';
import { JOB_STATUSES, TERMINAL_STATUSES, type JobStatus } from '../../jobs/job-record';
import type { RedisKeys } from '../../redis/redis-keys';
import { pipelinesBySlot, resultsOrThrow } from '../../redis/slot-batches';

/** BullMQ states in which a chunk waits to run (delayed: waiting for its retry backoff). */
const WAITING_STATES = ['wait', 'prioritized', 'delayed'] as const;
type WaitingState = typeof WAITING_STATES[number];

/** Chunks in BullMQ read per scrape to find the oldest; the dispatcher keeps the queue at about 2 x global concurrency. */
const QUEUE_PEEK = 200;

/** The slice of the chunk queue (a BullMQ Queue) read here. */
export interface WaitingChunkQueue {
  getJobCounts(...types: WaitingState[]): Promise<Record<string, number>>;
  getJobs(types: WaitingState[], start: number, end: number): Promise<({ readonly data: unknown } | undefined)[]>;
}

/** What the job metrics show. */
export interface JobQueueFigures {
  /** Job records by status (every status present, 0 when none). */
  readonly byStatus: ReadonlyMap<JobStatus, number>;
  /** Chunks waiting to run: in the tenants' backlogs and waiting in the BullMQ queue. */
  readonly depth: number;
  /** Seconds since the oldest job with a waiting chunk (or still queued) was queued; 0 when nothing waits. */
  readonly oldestAgeSeconds: number;
}

/**
 * Reads the batch job figures from Redis in three round trips (open and retained job
 * indexes and the tenant ring; statuses and backlogs; BullMQ's waiting chunks, alongside).
 * Every job record is in the open index (not yet settled) or the retained one (ended,
 * kept for --jobs-retention). An ended job's status never changes again, so retained
 * jobs' statuses are remembered and each is read once, not at every scrape.
 */
export class JobQueueReader {
  /** Status of each retained (ended) job read so far; pruned to the retained index at every read. */
  private readonly ended = new Map<string, JobStatus>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    /** The chunk queue, once the job runner has started it (null before: the figures are then left out). */
    private readonly queue: () => WaitingChunkQueue | null,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async read(): Promise<JobQueueFigures> {
    const queue = this.queue();
    if (queue === null) throw new Error('the chunk queue has not started yet');
    const [indexes, counts, waiting] = await Promise.all([
      this.redis.pipeline().zrange(this.keys.jobsOpen(), 0, -1).zrange(this.keys.jobsRetained(), 0, -1).lrange(this.keys.jobRing(), 0, -1).exec(),
      queue.getJobCounts(...WAITING_STATES),
      queue.getJobs([...WAITING_STATES], 0, QUEUE_PEEK - 1),
    ]);
    const [openIds, retainedMembers, ringTenants] = (indexes ?? []).map(([error, reply]) => {
      if (error !== null) throw error;
      return reply as string[];
    }) as [string[], string[], string[]];
    const open = new Set(openIds);
    const retained = new Set(retainedMembers.map((member) => member.slice(member.indexOf(' ') + 1)).filter((id) => !open.has(id)));
    for (const id of this.ended.keys()) if (!retained.has(id)) this.ended.delete(id);
    const unread = [...retained].filter((id) => !this.ended.has(id));
    const tenants = [...new Set(ringTenants)];

    const pipeline = pipelinesBySlot(this.redis);
    for (const id of open) pipeline.on(this.keys.job(id)).hmget(this.keys.job(id), 'status', 'queued_at');
    for (const id of unread) pipeline.on(this.keys.job(id)).hget(this.keys.job(id), 'status');
    for (const tenant of tenants) {
      pipeline.on(this.keys.jobBacklog(tenant)).llen(this.keys.jobBacklog(tenant));
      pipeline.on(this.keys.jobBacklog(tenant)).lindex(this.keys.jobBacklog(tenant), 0);
    }
    const replies = resultsOrThrow(await pipeline.exec());

    const byStatus = new Map<JobStatus, number>(JOB_STATUSES.map((status) => [status, 0]));
    const count = (status: string | null): void => {
      if (status !== null && byStatus.has(status as JobStatus)) byStatus.set(status as JobStatus, (byStatus.get(status as JobStatus) ?? 0) + 1);
    };
    let at = 0;
    const queuedAt = new Map<string, number>();
    const stillQueued: string[] = [];
    for (const id of open) {
      const [status, queued] = replies[at++] as [string | null, string | null];
      count(status);
      const queuedMs = Date.parse(queued ?? '');
      if (Number.isFinite(queuedMs)) queuedAt.set(id, queuedMs);
      if (status === 'queued') stillQueued.push(id);
    }
    for (const id of unread) {
      const status = replies[at++] as string | null;
      if (status !== null && TERMINAL_STATUSES.has(status as JobStatus)) this.ended.set(id, status as JobStatus);
      else count(status);
    }
    for (const status of this.ended.values()) count(status);

    let depth = WAITING_STATES.reduce((sum, state) => sum + (counts[state] ?? 0), 0);
    const waitingJobs = new Set(stillQueued);
    for (let index = 0; index < tenants.length; index++) {
      depth += Number(replies[at++] ?? 0);
      const head = replies[at++] as string | null;
      const parsed = head === null ? null : parseChunkRef(head);
      if (parsed !== null) waitingJobs.add(parsed.jobId);
    }
    for (const job of waiting) {
      const jobId = (job?.data as { jobId?: unknown } | undefined)?.jobId;
      if (typeof jobId === 'string') waitingJobs.add(jobId);
    }
    // A tenant's backlog is first in, first out, so its head is its oldest waiting chunk.
    let oldestMs = Number.POSITIVE_INFINITY;
    for (const id of waitingJobs) oldestMs = Math.min(oldestMs, queuedAt.get(id) ?? Number.POSITIVE_INFINITY);
    const oldestAgeSeconds = Number.isFinite(oldestMs) ? Math.max(0, (this.nowMs() - oldestMs) / 1000) : 0;
    return { byStatus, depth, oldestAgeSeconds };
  }
}
