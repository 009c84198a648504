import { randomBytes } from 'node:crypto';
import { startJobRunner, type JobRunner, type JobRunnerOptions } from '../../src/jobs/execution/job-runner';
import { PayloadCipher } from '../../src/jobs/payload-cipher';
import { silentLogger } from '../../src/observability/logger';
import { Router } from '../../src/proxy/router';
import { RedisKeys } from '../../src/redis/redis-keys';
import { InstancePool } from '../../src/triton/instance-pool';
import { sharedRedisUrl, uniquePrefix } from './test-redis';

/** A job runner in this process, with its own instance pool and router, on a fresh key prefix. */
export interface JobHarness {
  readonly runner: JobRunner;
  readonly keys: RedisKeys;
  readonly cipher: PayloadCipher;
  readonly pool: InstancePool;
  readonly router: Router;
  readonly redisUrl: string;
  /** Stops the runner (running chunks may finish for 2 s), the router and the pool. Idempotent. */
  stop(): Promise<void>;
}

export type HarnessOverrides = Partial<Omit<JobRunnerOptions, 'keys' | 'pool' | 'router'>> & {
  readonly prefix?: string;
  /** The pool's message limit (default 256 MiB). */
  readonly maxMessageBytes?: number;
};

/**
 * Starts execution against the given Triton instances: fast probing (200 ms), a fast
 * sweep and dispatch, short stall timeout; overrides win.
 */
export async function startJobHarness(instances: readonly string[], overrides: HarnessOverrides = {}): Promise<JobHarness> {
  const keys = new RedisKeys(overrides.prefix ?? uniquePrefix());
  const cipher = overrides.cipher ?? new PayloadCipher([{ id: 'test', key: randomBytes(32) }]);
  const pool = new InstancePool({
    targets: { kind: 'static', addresses: [...instances] },
    probeIntervalMs: 200,
    probeTimeoutMs: 1000,
    dnsRefreshMs: 10_000,
    maxMessageBytes: overrides.maxMessageBytes ?? 256 * 1024 * 1024,
    logger: silentLogger(),
  });
  await pool.start();
  const router = new Router(pool, { sequenceIdleMs: 60_000 });
  const redisUrl = overrides.redisUrl ?? await sharedRedisUrl();
  let runner: JobRunner;
  try {
    runner = await startJobRunner({
      redisUrl,
      keys,
      cipher,
      pool,
      router,
      concurrency: 2,
      globalConcurrency: 4,
      retentionMs: 3_600_000,
      stallTimeoutMs: 3000,
      owner: `test-${randomBytes(4).toString('hex')}`,
      sweepIntervalMs: 200,
      dispatchIntervalMs: 100,
      ...runnerOverrides(overrides),
    }, silentLogger());
  } catch (error) {
    router.stop();
    await pool.stop();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    runner, keys, cipher, pool, router, redisUrl,
    stop() {
      stopping ??= (async () => {
        await runner.stop(2000);
        router.stop();
        await pool.stop();
      })();
      return stopping;
    },
  };
}

function runnerOverrides(overrides: HarnessOverrides): Partial<JobRunnerOptions> {
  const { prefix: _prefix, maxMessageBytes: _maxMessageBytes, ...rest } = overrides;
  return rest;
}
