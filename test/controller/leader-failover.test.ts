import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'mocha';
import { closeRedisClient, createRedisClient } from '../../src/redis/redis-client';
import type { RedisClient } from '../../src/redis/redis-client';
import { RedisKeys } from '../../src/redis/redis-keys';
import { RegistryStore } from '../../src/registry/registry-store';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';
import { spawnTriage, type TriageProcess } from '../support/triage-process';
import { AdminHttp, readyVersions, simpleModelFiles, waitUntil } from './controller-fixture';

const LEASE_TTL_MS = 2000;

/**
 * Two `triage serve` processes on one Redis prefix in front of three local-triton
 * instances: one controller leads; SIGKILL it and the other takes over within the lease
 * TTL and carries the plan out.
 */
describe('controller leader failover', function () {
  this.timeout(40_000);
  const repository = new TempRepository();
  const dataDirs: string[] = [];
  const instances: LocalTritonFixture[] = [];
  const processes: TriageProcess[] = [];
  const keys = new RedisKeys(uniquePrefix());
  let redis: RedisClient;

  const leaseOwnerPid = async (): Promise<number | null> => {
    const owner = await redis.get(keys.controllerLease());
    // The owner is hostname:pid:random.
    return owner === null ? null : Number(owner.split(':').at(-2));
  };

  before(async () => {
    const redisUrl = await sharedRedisUrl();
    redis = createRedisClient({ url: redisUrl, name: 'test:failover', failFast: false });
    for (let index = 0; index < 3; index++) {
      instances.push(await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', strictReadiness: false, metricsPort: -1 }));
    }
    const spawnOne = (): Promise<TriageProcess> => {
      const dataDir = mkdtempSync(join(tmpdir(), 'triage-failover-data-'));
      dataDirs.push(dataDir);
      return spawnTriage({
        tritonUrls: instances.map((instance) => instance.address),
        redisUrl,
        redisPrefix: keys.prefix,
        args: ['--model-repository', repository.path, '--data-dir', dataDir, '--controller-lease-ttl', String(LEASE_TTL_MS), '--controller-tick', '200', '--probe-interval', '200', '--probe-timeout', '500'],
      });
    };
    processes.push(...await Promise.all([spawnOne(), spawnOne()]));
  });

  after(async () => {
    for (const each of processes) await each.stop();
    for (const instance of instances) await instance.stop();
    await closeRedisClient(redis);
    repository.remove();
    for (const dataDir of dataDirs) rmSync(dataDir, { recursive: true, force: true });
  });

  it('SIGKILL of the leader: the standby takes over within the lease TTL and finishes the plan', async () => {
    await waitUntil(async () => (await leaseOwnerPid()) !== null, 5000, 'a controller leads');
    const leaderPid = await leaseOwnerPid();
    const leader = processes.find((each) => each.child.pid === leaderPid);
    const standby = processes.find((each) => each.child.pid !== leaderPid);
    assert.ok(leader !== undefined && standby !== undefined, `the lease names one of the two processes (pid ${leaderPid})`);
    const admin = new AdminHttp(standby.httpBase);

    // A plan under way: the leader starts loading the first model everywhere when it is killed.
    await admin.register(simpleModelFiles('failover_a'));
    await admin.expect(202, 'POST', '/v1/models/failover_a/deploy', { replicas: 'all' });
    await leader.kill();
    const killedAt = performance.now();
    // More work for whoever leads next.
    await admin.register(simpleModelFiles('failover_b'));
    await admin.expect(202, 'POST', '/v1/models/failover_b/deploy', { replicas: 2 });

    await waitUntil(async () => (await leaseOwnerPid()) === standby.child.pid, LEASE_TTL_MS * 3, 'the standby holds the lease');
    const takeoverMs = performance.now() - killedAt;
    assert.ok(takeoverMs <= LEASE_TTL_MS + 300, `the standby took over ${Math.round(takeoverMs)} ms after the kill (lease TTL ${LEASE_TTL_MS} ms)`);

    const clients = instances.map((instance) => instance.client);
    await waitUntil(async () => (await readyVersions(clients, 'failover_a')).every((each) => each === '1'), 10_000, 'failover_a READY on all three instances');
    await waitUntil(async () => (await readyVersions(clients, 'failover_b')).filter((each) => each === '1').length === 2, 10_000, 'failover_b READY on two instances');
    const store = new RegistryStore(redis, keys);
    await waitUntil(async () => {
      const a = await store.placement('failover_a');
      const b = await store.placement('failover_b');
      return a.length === 3 && b.length === 2 && [...a, ...b].every((record) => record.state === 'READY');
    }, 5000, 'every placement record READY');
    assert.equal(standby.running(), true);
    assert.equal(leader.running(), false);
  });
});
