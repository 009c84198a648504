import type { Logger } from '../observability/logger';
import { closeRedisClient, createRedisClient, type RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import type { RecencyStore } from '../registry/recency-store';
import type { RegistryStore } from '../registry/registry-store';
import type { InstancePool } from '../triton/instance-pool';
import type { InstanceProfiles } from './instance-profiles';
import { LeaderLease } from './leader-lease';
import type { Eviction, UnplacedModel } from './placement-policy';
import { Reconciler } from './reconciler';
import type { RetryBackoffOptions } from './retry-backoff';

export interface ControllerOptions {
  /** Redis for the subscription to registry changes (a connection of its own). */
  readonly redisUrl: string;
  /** Redis for the lease and the records (shared with the registry). */
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly store: RegistryStore;
  /** When each model was last used (written by the proxies): who gives its room when a load needs it. */
  readonly recency: RecencyStore;
  /** A model used within this long is never evicted for another, ms. */
  readonly evictIdleMs: number;
  readonly pool: InstancePool;
  readonly profiles: InstanceProfiles;
  /** The model repository (push delivery reads it). */
  readonly repository: string;
  /** Unique per process: the lease's value. */
  readonly owner: string;
  readonly leaseTtlMs: number;
  /** A reconcile pass runs at least this often while leading. */
  readonly tickMs: number;
  /** Default: 1 s doubling to 60 s. */
  readonly retry?: RetryBackoffOptions;
  /** Deadline of each RepositoryModelLoad / Unload call; default 10 minutes. */
  readonly callTimeoutMs?: number;
}

export interface ControllerStatus {
  readonly leader: boolean;
  /** Model -> addresses the last plan puts it on (while leading). */
  readonly assignments: ReadonlyMap<string, readonly string[]>;
  readonly unplaced: readonly UnplacedModel[];
  /** Held models the last plan unloads for more recently used ones (while leading). */
  readonly evictions: readonly Eviction[];
}

/** The deployment controller of one triage process: active only while it holds the leader lease. */
export interface Controller {
  readonly owner: string;
  isLeader(): boolean;
  status(): ControllerStatus;
  /** Asks for a reconcile pass now (no-op unless leading). */
  reconcileNow(): void;
  /** Stops reconciling, releases the lease, closes its connection. Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_RETRY: RetryBackoffOptions = { minMs: 1000, maxMs: 60_000 };
const DEFAULT_CALL_TIMEOUT_MS = 600_000;
/** stop() waits this long at most for a load or unload under way (the pool closing its channel ends it anyway). */
const STOP_WAIT_MS = 2000;

/**
 * Starts the controller: it competes for the leader lease; while it leads, it reconciles
 * every tickMs and at once when a registry-changes or model-demand message arrives.
 */
export async function startController(options: ControllerOptions, rootLogger: Logger): Promise<Controller> {
  const logger = rootLogger.child({ component: 'controller' });
  let lease: LeaderLease | null = null;
  const isLeader = (): boolean => lease?.isLeader() === true;
  const reconciler = new Reconciler({
    store: options.store,
    recency: options.recency,
    evictIdleMs: options.evictIdleMs,
    pool: options.pool,
    profiles: options.profiles,
    repository: options.repository,
    retry: options.retry ?? DEFAULT_RETRY,
    callTimeoutMs: options.callTimeoutMs ?? DEFAULT_CALL_TIMEOUT_MS,
    logger,
    isLeader,
  });
  lease = new LeaderLease(options.redis, { key: options.keys.controllerLease(), owner: options.owner, ttlMs: options.leaseTtlMs, logger }, {
    onAcquired: () => reconciler.activate(),
    onLost: () => reconciler.deactivate(),
  });
  const subscriber = createRedisClient({ url: options.redisUrl, name: 'triage:controller', failFast: false });
  // Connection errors surface as events; ioredis reconnects and resubscribes on its own, and the tick covers missed messages.
  subscriber.on('error', () => undefined);
  const channels = [options.keys.registryChanges(), options.keys.modelDemand()];
  subscriber.on('message', (from: string) => {
    if (channels.includes(from) && isLeader()) reconciler.request();
  });
  try {
    await subscriber.subscribe(...channels);
  } catch (error) {
    await closeRedisClient(subscriber);
    throw new Error(`the controller cannot subscribe to registry changes: ${(error as Error).message}`);
  }
  const tick = setInterval(() => { if (isLeader()) reconciler.request(); }, options.tickMs);
  lease.start();
  let stopping: Promise<void> | null = null;
  const runningLease = lease;
  return {
    owner: options.owner,
    isLeader,
    status: () => {
      const leader = isLeader();
      const last = reconciler.lastStatus();
      return { leader, assignments: leader ? last.assignments : new Map(), unplaced: leader ? last.unplaced : [], evictions: leader ? last.evictions : [] };
    },
    reconcileNow: () => { if (isLeader()) reconciler.request(); },
    stop: () => {
      stopping ??= (async () => {
        clearInterval(tick);
        reconciler.deactivate();
        await runningLease.stop();
        await reconciler.stop(STOP_WAIT_MS);
        await closeRedisClient(subscriber);
      })();
      return stopping;
    },
  };
}
