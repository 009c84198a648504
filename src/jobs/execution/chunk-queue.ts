import type { JobsOptions } from 'bullmq';
import { bullmqConnection } from '../../redis/redis-client';

/** The one BullMQ queue of chunks to execute (prefix: RedisKeys.bullPrefix()). */
export const CHUNK_QUEUE = 'chunks';

/** A BullMQ job's data: a reference only, never a payload (BullMQ stores data in plain text). */
export interface ChunkJobData {
  readonly jobId: string;
  readonly chunk: number;
}

/** How a chunk is retried after a transient failure before it counts as poison. */
export interface ChunkRetryPolicy {
  /** Attempts in all (the first included). */
  readonly attempts: number;
  /** Delay before the second attempt; doubles each time (with up to 50% jitter). */
  readonly backoffMs: number;
}

export const DEFAULT_RETRY_POLICY: ChunkRetryPolicy = { attempts: 5, backoffMs: 1000 };

/**
 * The BullMQ job id of a chunk: `<job id>-c<n>` (BullMQ ids may not hold ':'). Adding a
 * job whose id exists is a no-op, so dispatching one chunk twice queues it once.
 */
export function chunkJobId(jobId: string, chunk: number): string {
  return `${jobId}-c${chunk}`;
}

export function chunkJobOptions(jobId: string, chunk: number, retry: ChunkRetryPolicy): JobsOptions {
  return {
    jobId: chunkJobId(jobId, chunk),
    attempts: retry.attempts,
    backoff: { type: 'exponential', delay: retry.backoffMs, jitter: 0.5 },
    // Completed ones are kept a while (bull-board shows them, and a late duplicate dispatch stays a no-op).
    removeOnComplete: { age: 3600, count: 1000 },
    removeOnFail: { age: 7 * 86_400 },
  };
}

/**
 * The connection of a BullMQ Queue or Worker (one server, Sentinel or Cluster), and
 * `release`, to call once the Queue or Worker is closed. A worker's connections block, so
 * their commands wait for a reconnect (maxRetriesPerRequest null, as BullMQ requires); a
 * queue's commands fail after a few reconnects. Reconnects come quickly (50 ms doubling
 * to 1 s), so a Redis restart costs about a second, not BullMQ's default of up to 20 s.
 */
export const bullConnection = bullmqConnection;
