import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';

/** Redis Cluster's number of hash slots. */
const SLOTS = 16_384;

/** A Redis Cluster of local redis-server processes, every slot served by a master. */
export interface LocalRedisCluster {
  /** redis+cluster://127.0.0.1:<port>,... (every master a seed). */
  readonly url: string;
  /** The masters, in slot order: masters[i] serves the i-th share of the slots. */
  readonly masters: readonly RedisServerProcess[];
  /** Stops every node and removes their folders. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Starts `masters` (default 3) redis-server processes in cluster mode, each in its own
 * temporary folder with an append-only file, on free ports of 127.0.0.1; gives each an
 * equal share of the slots, introduces them (CLUSTER MEET) and resolves once every node
 * reports cluster_state:ok and knows every other. Whatever started is stopped again when
 * a later step fails.
 */
export async function startRedisCluster(options: { readonly masters?: number } = {}): Promise<LocalRedisCluster> {
  const count = options.masters ?? 3;
  const directory = mkdtempSync(join(tmpdir(), 'triage-test-cluster-'));
  const started: RedisServerProcess[] = [];
  const stopAll = async (): Promise<void> => {
    await Promise.all(started.map((node) => node.stop()));
    rmSync(directory, { recursive: true, force: true });
  };
  try {
    // Each node's cluster bus gets a port of its own (the default, port + 10000, may not exist).
    const ports = await freePorts(2 * count);
    const outcomes = await Promise.allSettled(Array.from({ length: count }, (_, index) => startRedisServer({
      directory: join(directory, `node-${index}`),
      port: ports[2 * index] as number,
      appendOnly: true,
      args: ['--cluster-enabled', 'yes', '--cluster-config-file', 'nodes.conf', '--cluster-node-timeout', '5000', '--cluster-port', String(ports[2 * index + 1])],
    })));
    for (const outcome of outcomes) if (outcome.status === 'fulfilled') started.push(outcome.value);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === 'rejected');
    if (failed !== undefined) throw failed.reason;
    await formCluster(started, ports[1] as number);
  } catch (error) {
    await stopAll();
    throw error;
  }
  let stopping: Promise<void> | null = null;
  return {
    url: `redis+cluster://${started.map((node) => `127.0.0.1:${node.port}`).join(',')}`,
    masters: started,
    stop() {
      stopping ??= stopAll();
      return stopping;
    },
  };
}

/** `count` distinct TCP ports of 127.0.0.1, free a moment ago (all held at once while chosen, so none repeats). */
async function freePorts(count: number): Promise<number[]> {
  const servers: Server[] = [];
  try {
    for (let index = 0; index < count; index++) {
      const server = createServer();
      servers.push(server);
      await new Promise<void>((resolve, reject) => {
        server.once('error', reject);
        server.listen(0, '127.0.0.1', () => resolve());
      });
    }
    return servers.map((server) => {
      const address = server.address();
      return typeof address === 'object' && address !== null ? address.port : 0;
    });
  } finally {
    await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  }
}

async function formCluster(nodes: readonly RedisServerProcess[], firstBusPort: number): Promise<void> {
  const clients = nodes.map((node) => new Redis(node.port, '127.0.0.1', { lazyConnect: true, maxRetriesPerRequest: 1 }));
  try {
    await Promise.all(clients.map(async (client, index) => {
      const first = Math.floor(index * SLOTS / nodes.length);
      const last = Math.floor((index + 1) * SLOTS / nodes.length) - 1;
      await client.call('CLUSTER', 'ADDSLOTSRANGE', first, last);
    }));
    await Promise.all(clients.slice(1).map((client) => client.call('CLUSTER', 'MEET', '127.0.0.1', (nodes[0] as RedisServerProcess).port, firstBusPort)));
    const deadline = Date.now() + 30_000;
    for (;;) {
      const infos = await Promise.all(clients.map((client) => client.call('CLUSTER', 'INFO') as Promise<string>));
      const formed = infos.every((info) => info.includes('cluster_state:ok') && info.includes(`cluster_known_nodes:${nodes.length}`));
      if (formed) return;
      if (Date.now() > deadline) throw new Error(`the local Redis Cluster did not form within 30 s: ${infos.map((info) => /cluster_state:\w+/.exec(info)?.[0]).join(', ')}`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  } finally {
    clients.forEach((client) => client.disconnect());
  }
}

/** One master redis-server watched by one Sentinel. */
export interface LocalRedisSentinel {
  /** redis+sentinel://127.0.0.1:<sentinel port>/<master name>[?sentinel_password=...]. */
  readonly url: string;
  readonly masterName: string;
  readonly master: RedisServerProcess;
  readonly sentinel: RedisServerProcess;
  /** Stops the Sentinel, then the master, and removes their folders. Idempotent. */
  stop(): Promise<void>;
}

/** Starts a master (noeviction, no persistence) and a Sentinel (`redis-server --sentinel`) monitoring it with quorum 1. */
export async function startRedisSentinel(options: { readonly sentinelPassword?: string } = {}): Promise<LocalRedisSentinel> {
  const directory = mkdtempSync(join(tmpdir(), 'triage-test-sentinel-'));
  const masterName = 'triage-test';
  let master: RedisServerProcess | null = null;
  try {
    master = await startRedisServer({ directory: join(directory, 'master') });
    const configFile = join(directory, 'sentinel.conf');
    // Sentinel rewrites its configuration file (what it learns), so it gets one of its own.
    const auth = options.sentinelPassword === undefined ? '' : `requirepass ${options.sentinelPassword}\n`;
    writeFileSync(configFile, `sentinel monitor ${masterName} 127.0.0.1 ${master.port} 1\nsentinel down-after-milliseconds ${masterName} 5000\n${auth}`);
    const sentinel = await startRedisServer({ directory: join(directory, 'sentinel'), configFile, args: ['--sentinel'] });
    const watched = master;
    let stopping: Promise<void> | null = null;
    return {
      url: `redis+sentinel://127.0.0.1:${sentinel.port}/${masterName}${options.sentinelPassword === undefined ? '' : `?sentinel_password=${encodeURIComponent(options.sentinelPassword)}`}`,
      masterName,
      master: watched,
      sentinel,
      stop() {
        stopping ??= (async () => {
          await sentinel.stop();
          await watched.stop();
          rmSync(directory, { recursive: true, force: true });
        })();
        return stopping;
      },
    };
  } catch (error) {
    await master?.stop();
    rmSync(directory, { recursive: true, force: true });
    throw error;
  }
}
