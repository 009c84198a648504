import type { ConnectionOptions, RedisOptions as BullmqRedisOptions } from 'bullmq';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import { parseRedisTarget, type RedisAuth, type RedisTarget } from './redis-url';

/**
 * A connection to triage's Redis: one server or a Sentinel-watched master (`Redis`), or a
 * Redis Cluster (`Cluster`). Both take the same commands; what differs under Cluster is
 * that a pipeline, MULTI or script may only address keys of one slot (see slot-batches.ts).
 */
export type RedisClient = Redis | Cluster;

export interface RedisClientOptions {
  /** TRIAGE_REDIS_URL: redis://, rediss://, redis+cluster://, rediss+cluster:// or redis+sentinel:// (see redis-url.ts). */
  readonly url: string;
  /** Name shown by CLIENT LIST, e.g. triage:admission. */
  readonly name: string;
  /**
   * Fail commands at once while disconnected instead of queueing them (the hot path must
   * answer, not wait); reconnection goes on in the background.
   */
  readonly failFast: boolean;
  /** Longest a command may take before it fails. */
  readonly commandTimeoutMs?: number;
}

/** Reconnects come quickly (50 ms doubling to 1 s): a Redis restart costs about a second. */
const reconnectDelay = (attempt: number): number => Math.min(50 * 2 ** attempt, 1000);

/** The one place ioredis connections are made. */
export function createRedisClient(options: RedisClientOptions): RedisClient {
  const target = parseRedisTarget(options.url);
  const perConnection: RedisOptions = {
    connectionName: options.name,
    maxRetriesPerRequest: options.failFast ? 0 : 20,
    ...(options.commandTimeoutMs === undefined ? {} : { commandTimeout: options.commandTimeoutMs }),
  };
  if (target.kind === 'cluster') {
    return new Cluster(target.nodes.map((node) => ({ ...node })), clusterOptions(target, perConnection, { enableOfflineQueue: !options.failFast }));
  }
  const redisOptions: RedisOptions = { ...perConnection, lazyConnect: false, enableOfflineQueue: !options.failFast, retryStrategy: reconnectDelay };
  // ioredis reads host, port, credentials, db and TLS (rediss://) from a server's URL itself.
  return target.kind === 'single' ? new Redis(target.url, redisOptions) : new Redis({ ...sentinelOptions(target), ...redisOptions });
}

/**
 * The `connection` of a BullMQ Queue or Worker, and what to close once BullMQ has closed
 * its own. A blocking (worker) connection waits through reconnects (maxRetriesPerRequest
 * null, as BullMQ requires); a queue's commands fail after a few reconnects. For one
 * server or Sentinel BullMQ gets options and owns the connections it makes. A Cluster can
 * only be handed over as a client: a Queue uses it as is (so `release` closes it), a
 * Worker connects duplicates of it (so it never connects, and `release` only drops it).
 */
export function bullmqConnection(url: string, name: string, blocking: boolean): { readonly connection: ConnectionOptions; release(): Promise<void> } {
  const target = parseRedisTarget(url);
  const perConnection: RedisOptions = { connectionName: name, maxRetriesPerRequest: blocking ? null : 20 };
  if (target.kind !== 'cluster') {
    // BullMQ hands `url` to ioredis as its first argument.
    const server = target.kind === 'single' ? { url: target.url } : sentinelOptions(target);
    // BullMQ declares its own (looser) copy of ioredis' options; these are ioredis' own.
    const connection = { ...server, ...perConnection, retryStrategy: reconnectDelay } as BullmqRedisOptions;
    return { connection, release: () => Promise.resolve() };
  }
  const cluster = new Cluster(target.nodes.map((node) => ({ ...node })), clusterOptions(target, perConnection, { lazyConnect: true }));
  cluster.on('error', () => undefined);
  return { connection: cluster, release: () => closeRedisClient(cluster) };
}

function sentinelOptions(target: Extract<RedisTarget, { kind: 'sentinel' }>): RedisOptions {
  return {
    sentinels: target.sentinels.map((sentinel) => ({ ...sentinel })),
    name: target.masterName,
    db: target.db,
    ...credentials(target),
    ...(target.sentinelUsername === null ? {} : { sentinelUsername: target.sentinelUsername }),
    ...(target.sentinelPassword === null ? {} : { sentinelPassword: target.sentinelPassword }),
    ...(target.tls ? { enableTLSForSentinelMode: true } : {}),
  };
}

function clusterOptions(target: Extract<RedisTarget, { kind: 'cluster' }>, perConnection: RedisOptions, overrides: ClusterOptions): ClusterOptions {
  return {
    clusterRetryStrategy: reconnectDelay,
    // Every command goes to the slot's master: replicas lag, and triage reads its own writes.
    scaleReads: 'master',
    redisOptions: { ...perConnection, ...credentials(target) },
    ...overrides,
  };
}

function credentials(auth: RedisAuth): RedisOptions {
  return {
    ...(auth.username === null ? {} : { username: auth.username }),
    ...(auth.password === null ? {} : { password: auth.password }),
    ...(auth.tls ? { tls: {} } : {}),
  };
}

/**
 * The servers holding the data: the one server, or every master of a Cluster (as the
 * client knows them now). What must see every key (SCAN, KEYS, CONFIG) runs on each.
 */
export function mastersOf(client: RedisClient): Redis[] {
  return client instanceof Cluster ? client.nodes('master') : [client];
}

/** Resolves once the client is ready, or rejects after timeoutMs with the reason. */
export function waitUntilReady(client: RedisClient, timeoutMs: number): Promise<void> {
  if (client.status === 'ready') return Promise.resolve();
  return new Promise((resolve, reject) => {
    let lastError = '';
    const onError = (error: Error): void => { lastError = error.message; };
    const timer = setTimeout(() => {
      client.off('ready', onReady);
      client.off('error', onError);
      reject(new Error(`Redis not reachable within ${timeoutMs} ms${lastError === '' ? '' : `: ${lastError}`}`));
    }, timeoutMs);
    const onReady = (): void => {
      clearTimeout(timer);
      client.off('error', onError);
      resolve();
    };
    client.once('ready', onReady);
    client.on('error', onError);
  });
}

/** Closes a client: QUIT when connected, else disconnect; never throws. */
export async function closeRedisClient(client: RedisClient): Promise<void> {
  try {
    if (client.status === 'ready') await client.quit();
    else client.disconnect();
  } catch {
    client.disconnect();
  }
}
