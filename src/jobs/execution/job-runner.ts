import { Queue } from 'bullmq';
import type { Logger } from '../../observability/logger';
import type { Router } from '../../proxy/router';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import type { InstancePool } from '../../triton/instance-pool';
import { JobStore } from '../job-store';
import type { PayloadCipher } from '../payload-cipher';
import { BatchInference } from './batch-inference';
import { ChunkExecutor } from './chunk-executor';
import { bullConnection, CHUNK_QUEUE, DEFAULT_RETRY_POLICY, type ChunkJobData, type ChunkRetryPolicy } from './chunk-queue';
import { ChunkWorker } from './chunk-worker';
import { DispatchScripts } from './dispatch-scripts';
import { FairDispatcher } from './fair-dispatcher';
import { JobFinalizer } from './job-finalizer';
import { JobSweeper } from './job-sweeper';

export interface JobRunnerOptions {
  readonly redisUrl: string;
  readonly keys: RedisKeys;
  readonly cipher: PayloadCipher;
  readonly pool: InstancePool;
  readonly router: Router;
  /** Chunks executed at once in this process; 0: neither worker nor dispatcher here (sweeping still runs). */
  readonly concurrency: number;
  readonly globalConcurrency: number;
  readonly retentionMs: number;
  readonly stallTimeoutMs: number;
  /** Unique per process (settle locks). */
  readonly owner: string;
  /** Defaults: 5 attempts, backoff from 1 s. */
  readonly retry?: ChunkRetryPolicy;
  /** Deadline of each batch's inference call; default 60 s. */
  readonly inferTimeoutMs?: number;
  /** Default 1 s. */
  readonly sweepIntervalMs?: number;
  /** Default 250 ms (the dispatcher is also woken after every chunk). */
  readonly dispatchIntervalMs?: number;
  /** Told the rows of every chunk this process's worker commits first (metrics: triage_job_rows_total). */
  readonly onRowsDone?: (completed: number, failed: number) => void;
}

/** Batch job execution in one process: the chunk queue, and (with concurrency > 0) the dispatcher and the worker. */
export interface JobRunner {
  readonly queue: Queue<ChunkJobData>;
  readonly store: JobStore;
  readonly scripts: DispatchScripts;
  readonly finalizer: JobFinalizer;
  readonly sweeper: JobSweeper;
  readonly dispatcher: FairDispatcher | null;
  /** Stops dispatching and sweeping, lets running chunks finish for at most timeoutMs, closes every connection. Idempotent. */
  stop(timeoutMs: number): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 15_000;

/**
 * Starts batch job execution: its own Redis connection (commands wait through a Redis
 * restart rather than failing at once: work in the background can wait), the `chunks`
 * queue, the sweeper (expiry, cancellation, retention: in every process), and with
 * concurrency > 0 the fair dispatcher and the BullMQ worker.
 */
export async function startJobRunner(options: JobRunnerOptions, rootLogger: Logger): Promise<JobRunner> {
  const logger = rootLogger.child({ component: 'jobs' });
  const redis = createRedisClient({ url: options.redisUrl, name: 'triage:jobs', failFast: false });
  redis.on('error', () => undefined);
  const queueConnection = bullConnection(options.redisUrl, 'triage:jobs-queue', false);
  const queue = new Queue<ChunkJobData>(CHUNK_QUEUE, { connection: queueConnection.connection, prefix: options.keys.bullPrefix() });
  queue.on('error', () => undefined);
  try {
    await waitUntilReady(redis, STARTUP_TIMEOUT_MS);
    await queue.waitUntilReady();
  } catch (error) {
    await queue.close().catch(() => undefined);
    await Promise.all([queueConnection.release(), closeRedisClient(redis)]);
    throw error;
  }
  const store = new JobStore(redis, options.keys, options.cipher);
  const scripts = new DispatchScripts(redis, options.keys);
  const finalizer = new JobFinalizer(store, redis, options.keys, { retentionMs: options.retentionMs, owner: options.owner, logger });
  const sweeper = new JobSweeper(redis, options.keys, finalizer, { intervalMs: options.sweepIntervalMs ?? 1000, logger });
  const retry = options.retry ?? DEFAULT_RETRY_POLICY;
  let dispatcher: FairDispatcher | null = null;
  let worker: ChunkWorker | null = null;
  if (options.concurrency > 0) {
    dispatcher = new FairDispatcher(queue, redis, options.keys, store, scripts, finalizer, {
      globalConcurrency: options.globalConcurrency,
      intervalMs: options.dispatchIntervalMs ?? 250,
      staleMs: Math.max(2 * options.stallTimeoutMs, 5000),
      retry,
      logger,
    });
    const inference = new BatchInference({ pool: options.pool, router: options.router }, options.inferTimeoutMs ?? 60_000);
    const executor = new ChunkExecutor({ store, redis, keys: options.keys, inference });
    const wake = dispatcher;
    worker = new ChunkWorker(executor, store, redis, options.keys, finalizer, scripts, {
      redisUrl: options.redisUrl,
      prefix: options.keys.bullPrefix(),
      concurrency: options.concurrency,
      stallTimeoutMs: options.stallTimeoutMs,
      logger,
      onChunkDone: () => wake.wake(),
      ...(options.onRowsDone === undefined ? {} : { onRowsDone: options.onRowsDone }),
    });
    await dispatcher.start();
    worker.start();
  }
  sweeper.start();
  logger.info({ concurrency: options.concurrency, globalConcurrency: options.globalConcurrency }, options.concurrency > 0 ? 'batch job worker started' : 'batch job worker disabled in this process');

  let stopping: Promise<void> | null = null;
  const stop = (timeoutMs: number): Promise<void> => {
    stopping ??= (async () => {
      await Promise.all([dispatcher?.stop(), sweeper.stop()]);
      await worker?.close(timeoutMs);
      await finalizer.drain();
      await queue.close().catch(() => undefined);
      await Promise.all([queueConnection.release(), closeRedisClient(redis)]);
    })();
    return stopping;
  };
  return { queue, store, scripts, finalizer, sweeper, dispatcher, stop };
}
