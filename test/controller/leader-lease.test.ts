import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterEach, describe, it } from 'mocha';
import { LeaderLease } from '../../src/controller/leader-lease';
import { silentLogger } from '../../src/observability/logger';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

const TTL_MS = 600;

interface Contender {
  readonly name: string;
  readonly lease: LeaderLease;
  readonly redis: RedisClient;
  /** Times (performance.now) it started and stopped leading. */
  readonly events: { kind: 'acquired' | 'lost'; atMs: number; reason?: string }[];
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitFor(condition: () => boolean, timeoutMs: number, what: string): Promise<number> {
  const started = performance.now();
  while (!condition()) {
    if (performance.now() - started > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(5);
  }
  return performance.now();
}

describe('controller leader lease', () => {
  const contenders: Contender[] = [];
  const servers: { server: RedisServerProcess; directory: string }[] = [];

  async function contender(name: string, url: string, key: string): Promise<Contender> {
    const redis = createRedisClient({ url, name: `test:${name}`, failFast: true, commandTimeoutMs: 200 });
    redis.on('error', () => undefined);
    await waitUntilReady(redis, 5000);
    const events: Contender['events'] = [];
    const lease = new LeaderLease(redis, { key, owner: name, ttlMs: TTL_MS, logger: silentLogger() }, {
      onAcquired: () => events.push({ kind: 'acquired', atMs: performance.now() }),
      onLost: (reason) => events.push({ kind: 'lost', atMs: performance.now(), reason }),
    });
    const created = { name, lease, redis, events };
    contenders.push(created);
    return created;
  }

  afterEach(async () => {
    for (const each of contenders.splice(0)) {
      await each.lease.stop();
      // A client already ended (disconnected on purpose) is left alone: ending it twice arms a timer of ioredis's for nothing.
      if (each.redis.status !== 'end') await closeRedisClient(each.redis);
    }
    for (const { server, directory } of servers.splice(0)) {
      await server.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });

  it('lets exactly one of several processes lead, and hands over at once on release', async () => {
    const url = await sharedRedisUrl();
    const key = `${uniquePrefix()}lease`;
    const all = await Promise.all(['a', 'b', 'c'].map((name) => contender(name, url, key)));
    for (const each of all) each.lease.start();
    await waitFor(() => all.some((each) => each.lease.isLeader()), 1000, 'a leader');
    for (let check = 0; check < 20; check++) {
      assert.equal(all.filter((each) => each.lease.isLeader()).length, 1, 'exactly one leader');
      await sleep(TTL_MS / 10);
    }
    const leader = all.find((each) => each.lease.isLeader()) as Contender;
    const writer = createRedisClient({ url, name: 'test:reader', failFast: false });
    try {
      assert.equal(await writer.get(key), leader.name, 'the lease holds the owner');
      const stoppedAt = performance.now();
      await leader.lease.stop();
      assert.equal(leader.lease.isLeader(), false);
      const takenAt = await waitFor(() => all.some((each) => each !== leader && each.lease.isLeader()), TTL_MS, 'a new leader');
      // A released lease is taken at the standby's next attempt (every ttl/3), not after the TTL.
      assert.ok(takenAt - stoppedAt < TTL_MS / 3 + 150, `takeover after release took ${Math.round(takenAt - stoppedAt)} ms`);
      assert.equal(all.filter((each) => each.lease.isLeader()).length, 1);
    } finally {
      await closeRedisClient(writer);
    }
  });

  it('a standby takes over within the TTL when the leader vanishes without releasing, and never overlaps it', async () => {
    const url = await sharedRedisUrl();
    const key = `${uniquePrefix()}lease`;
    const first = await contender('first', url, key);
    first.lease.start();
    await waitFor(() => first.lease.isLeader(), 1000, 'the first leader');
    const standby = await contender('standby', url, key);
    standby.lease.start();
    await sleep(TTL_MS); // the standby has tried and found the lease held
    assert.equal(standby.lease.isLeader(), false);
    // The leader's connection dies: it can neither renew nor release.
    first.redis.disconnect();
    const diedAt = performance.now();
    const takenAt = await waitFor(() => standby.lease.isLeader(), TTL_MS * 3, 'the standby to lead');
    assert.ok(takenAt - diedAt <= TTL_MS + 200, `takeover ${Math.round(takenAt - diedAt)} ms after the leader died (TTL ${TTL_MS} ms)`);
    const lost = first.events.find((event) => event.kind === 'lost');
    assert.ok(lost !== undefined, 'the cut-off leader stopped leading');
    assert.match(lost.reason ?? '', /could not be renewed before it expired/);
    const acquired = standby.events.find((event) => event.kind === 'acquired');
    assert.ok(acquired !== undefined && lost.atMs <= acquired.atMs, 'the old leader stopped before the new one started');
  });

  it('stops leading at once when the lease was taken over, and within the TTL when Redis goes away', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'triage-lease-redis-'));
    const server = await startRedisServer({ directory });
    servers.push({ server, directory });
    const key = `${uniquePrefix()}lease`;
    const leader = await contender('leader', server.url, key);
    leader.lease.start();
    await waitFor(() => leader.lease.isLeader(), 1000, 'the leader');
    const intruder = createRedisClient({ url: server.url, name: 'test:intruder', failFast: false });
    try {
      await intruder.set(key, 'someone-else', 'PX', 60_000);
      const lostAt = await waitFor(() => !leader.lease.isLeader(), TTL_MS, 'the leader to notice');
      assert.match(leader.events.at(-1)?.reason ?? '', /taken over or expired/);
      assert.ok(lostAt > 0);
      await intruder.del(key);
      await waitFor(() => leader.lease.isLeader(), TTL_MS * 2, 'the lease to be taken again');
    } finally {
      await closeRedisClient(intruder);
    }
    await server.kill();
    const goneAt = performance.now();
    const stoppedAt = await waitFor(() => !leader.lease.isLeader(), TTL_MS * 2, 'the leader to give up without Redis');
    assert.ok(stoppedAt - goneAt <= TTL_MS + 150, `stopped ${Math.round(stoppedAt - goneAt)} ms after Redis went away`);
    await sleep(20);
    assert.equal(leader.events.at(-1)?.kind, 'lost');
    // Redis comes back (empty): the process leads again.
    servers.push({ server: await startRedisServer({ directory, port: server.port }), directory });
    await waitFor(() => leader.lease.isLeader(), 5000, 'the lease to be taken once Redis is back');
  });
});
