import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { after, before, beforeEach, describe, it } from 'mocha';
import { DispatchScripts, PROGRESS_TAU_MS } from '../../src/jobs/execution/dispatch-scripts';
import { RedisKeys } from '../../src/redis/redis-keys';
import { breastCancerRow, createTestJob, waitForJob, waitUntil } from '../support/job-builder';
import { startJobHarness, type JobHarness } from '../support/job-runner-harness';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { TempRepository } from '../support/temp-repository';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

describe('batch job dispatch: the fair dispatch scripts (real Redis)', () => {
  let redis: Redis;
  let keys: RedisKeys;
  let scripts: DispatchScripts;

  before(async () => {
    redis = new Redis(await sharedRedisUrl());
  });
  after(async () => {
    await redis?.quit();
  });

  beforeEach(() => {
    keys = new RedisKeys(uniquePrefix());
    scripts = new DispatchScripts(redis, keys);
  });

  it('takes chunks round-robin over the tenants, each tenant\'s in order, and drops a tenant from the ring when its backlog is empty', async () => {
    await scripts.enqueueJob('A', 'a1', 3, 1000);
    await scripts.enqueueJob('A', 'a2', 2, 2000);
    await scripts.enqueueJob('B', 'b1', 2, 3000);
    await scripts.enqueueJob('C', 'c1', 1, 4000);
    assert.deepEqual(await redis.lrange(keys.jobRing(), 0, -1), ['A', 'B', 'C'], 'each tenant on the ring once');
    assert.deepEqual(await scripts.dispatchNext(4, 5000), ['a1:0', 'b1:0', 'c1:0', 'a1:1']);
    assert.deepEqual(await scripts.dispatchNext(100, 6000), ['b1:1', 'a1:2', 'a2:0', 'a2:1']);
    assert.deepEqual(await redis.lrange(keys.jobRing(), 0, -1), [], 'every backlog is empty: the ring is too');
    assert.deepEqual(await scripts.dispatchNext(10, 7000), []);
    const inflight = await redis.zrange(keys.jobInflight(), 0, -1, 'WITHSCORES');
    assert.equal(inflight.length, 16, 'all 8 refs recorded in flight');
    assert.equal(await redis.zscore(keys.jobInflight(), 'a1:0'), '5000');
    assert.equal(await redis.zscore(keys.jobInflight(), 'a2:1'), '6000');
    assert.deepEqual(await redis.zrange(keys.jobsOpen(), 0, -1, 'WITHSCORES'), ['a1', '1000', 'a2', '2000', 'b1', '3000', 'c1', '4000']);
  });

  it('puts a tenant back on the ring when it queues again after leaving it', async () => {
    await scripts.enqueueJob('A', 'a1', 1, 1000);
    assert.deepEqual(await scripts.dispatchNext(5, 1), ['a1:0']);
    assert.equal(await redis.llen(keys.jobRing()), 0);
    await scripts.enqueueJob('A', 'a2', 1, 1000);
    await scripts.enqueueJob('B', 'b1', 1, 1000);
    assert.deepEqual(await redis.lrange(keys.jobRing(), 0, -1), ['A', 'B']);
    assert.deepEqual(await scripts.dispatchNext(5, 2), ['a2:0', 'b1:0']);
  });

  it('keeps an exponentially weighted rate of finished rows per job', async () => {
    await redis.hset(keys.job('j1'), 'status', 'in_progress');
    assert.equal(await scripts.recordProgress('j1', 1000, 0), 1000 * 1000 / PROGRESS_TAU_MS);
    // One time constant later the first rows weigh 1/e.
    const rate = await scripts.recordProgress('j1', 500, PROGRESS_TAU_MS) as number;
    assert.ok(Math.abs(rate - (100 / Math.E + 50)) < 0.01, String(rate));
    assert.equal(await scripts.recordProgress('missing', 10, 0), null);
  });
});

describe('batch job dispatch: fairness between tenants (real Redis, local-triton process)', function () {
  this.timeout(120_000);
  let repository: TempRepository;
  let triton: LocalTritonProcess;
  let harness: JobHarness;

  before(async () => {
    repository = new TempRepository().copySample('breast_cancer_mlp');
    triton = await spawnLocalTriton({ modelRepository: repository.path });
    harness = await startJobHarness([triton.address], { concurrency: 1, globalConcurrency: 1 });
  });
  after(async () => {
    await harness?.stop();
    await triton?.kill();
    repository?.remove();
  });

  it('a tenant with one job is not starved by a tenant with many: its job ends long before the other backlog drains', async () => {
    const { store, scripts } = harness.runner;
    const spec = { model: 'breast_cancer_mlp', rows: 8 * 64, row: breastCancerRow, chunkRows: 64 };
    const many: string[] = [];
    for (let index = 0; index < 12; index++) many.push(await createTestJob(store, scripts, { ...spec, tenantId: 't_many' }));
    const chunksOfMany = 12 * 8;
    const doneOfMany = async (): Promise<number> => {
      let done = 0;
      for (const id of many) done += (await store.get(id))?.chunks_done ?? 0;
      return done;
    };
    await waitUntil(async () => (await doneOfMany()) >= 2, 30_000, 'the first tenant to be under way');
    const single = await createTestJob(store, scripts, { ...spec, tenantId: 't_single' });
    const doneAtQueued = await doneOfMany();
    const record = await waitForJob(store, single, ['completed'], 60_000, 20);
    const doneAtSingle = await doneOfMany();
    // Round-robin: the single job's 8 chunks alternate with 8 of the other tenant's, after at most the queue's depth (2)
    // and the one running (plus a few for the time the reads take). First come, first served would run all of the
    // other tenant's remaining chunks (over 80) first.
    assert.equal(record.request_counts.completed, 8 * 64);
    const meanwhile = doneAtSingle - doneAtQueued;
    assert.ok(meanwhile <= 8 + 2 + 1 + 3, `the other tenant finished ${meanwhile} chunks while the single job ran (${doneAtSingle} of ${chunksOfMany} in all)`);
    assert.ok(doneAtSingle < chunksOfMany / 3, `the other tenant had ${doneAtSingle} of ${chunksOfMany} chunks done when the single job completed`);
    for (const id of many) await waitForJob(store, id, ['completed'], 60_000);
  });
});
