import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { Redis } from 'ioredis';
import { TriageError } from '../../src/errors/triage-error';
import { JobQuotaGate } from '../../src/jobs/job-quota-gate';
import { RedisKeys } from '../../src/redis/redis-keys';
import { parseTenantQuotas } from '../../src/tenancy/quota-config';
import { QuotaRefusal } from '../../src/tenancy/quota-refusal';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

describe('jobs: batch quotas at create', () => {
  let redis: Redis;
  let keys: RedisKeys;

  before(async () => {
    redis = new Redis(await sharedRedisUrl());
    keys = new RedisKeys(uniquePrefix());
  });
  after(async () => {
    await redis?.quit();
  });

  /** A job record of `tenant` with `status`, indexed like JobStore.create does. */
  const job = async (tenant: string, id: string, status: string): Promise<void> => {
    await redis.hset(keys.job(id), { id, tenant_id: tenant, status });
    await redis.zadd(keys.tenantJobs(tenant), Date.now(), id);
  };
  const refusal = async (run: () => Promise<unknown>): Promise<QuotaRefusal> => {
    try {
      await run();
    } catch (error) {
      assert.ok(error instanceof QuotaRefusal, String(error));
      return error;
    }
    throw new Error('not refused');
  };

  it('the quotas document takes max_queued_jobs, max_rows_per_job and daily_batch_rows at tenant level only', () => {
    assert.deepEqual(parseTenantQuotas({ max_queued_jobs: 0, max_rows_per_job: 1, daily_batch_rows: 1_000_000_000_000 }), { max_queued_jobs: 0, max_rows_per_job: 1, daily_batch_rows: 1_000_000_000_000 });
    assert.deepEqual(parseTenantQuotas({ max_queued_jobs: null }), { max_queued_jobs: null });
    const refused = (input: unknown): string => {
      try {
        parseTenantQuotas(input);
      } catch (error) {
        assert.ok(error instanceof TriageError && error.code === 'INVALID_ARGUMENT');
        return error.message;
      }
      throw new Error('accepted');
    };
    assert.match(refused({ max_rows_per_job: 0 }), /max_rows_per_job must be between 1 and/);
    assert.match(refused({ max_queued_jobs: -1 }), /max_queued_jobs must be between 0 and/);
    assert.match(refused({ daily_batch_rows: 1.5 }), /daily_batch_rows must be an integer/);
    assert.match(refused({ models: { simple: { max_queued_jobs: 1 } } }), /models\.simple\.max_queued_jobs is not a per-model limit/);
  });

  it('counts the tenant\'s jobs not ended (and drops index entries of jobs gone); refuses at max_queued_jobs', async () => {
    const gate = new JobQuotaGate(redis, keys, 1000);
    for (const [id, status] of [['j1', 'queued'], ['j2', 'in_progress'], ['j3', 'cancelling'], ['j4', 'completed'], ['j5', 'expired']]) await job('t_a', id as string, status as string);
    await redis.zadd(keys.tenantJobs('t_a'), Date.now(), 'j_gone');
    assert.equal(await gate.openJobs('t_a'), 3);
    assert.deepEqual((await redis.zrange(keys.tenantJobs('t_a'), 0, -1)).sort(), ['j1', 'j2', 'j3', 'j4', 'j5']);
    assert.equal((await gate.admit('t_a', { max_queued_jobs: 4 })).maxRows, 1000);
    const over = await refusal(() => gate.admit('t_a', { max_queued_jobs: 3 }));
    assert.equal(over.code, 'QUOTA_EXCEEDED');
    assert.match(over.message, /has 3 jobs not yet ended: max_queued_jobs is 3/);
  });

  it('the tightest of the server cap, max_rows_per_job and the rows left today bounds a job, and names itself', async () => {
    const gate = new JobQuotaGate(redis, keys, 50);
    assert.equal((await gate.admit('t_b', {})).maxRows, 50);
    assert.match((await gate.admit('t_b', {})).refusal().message, /more than 50 rows, the most this server takes in one job \(--jobs-max-rows\)/);
    const perJob = await gate.admit('t_b', { max_rows_per_job: 20, daily_batch_rows: 100 });
    assert.equal(perJob.maxRows, 20);
    assert.equal(perJob.refusal().code, 'BUDGET_EXHAUSTED');
    await gate.commit('t_b', { daily_batch_rows: 100 }, 90, async () => true);
    const daily = await gate.admit('t_b', { max_rows_per_job: 20, daily_batch_rows: 100 });
    assert.equal(daily.maxRows, 10);
    assert.match(daily.refusal().message, /daily_batch_rows of tenant t_b is 100 rows per UTC day, 90 used today: the job has more than the 10 rows left/);
    assert.ok(Number(daily.refusal().headers()['x-ratelimit-reset']) <= 86_400_000);
  });

  it('commit checks again under the tenant lock: of two creations racing for the last place, one is refused and writes nothing', async () => {
    const gate = new JobQuotaGate(redis, keys, 1000);
    let writes = 0;
    const attempt = (id: string) => gate.commit('t_c', { max_queued_jobs: 1, daily_batch_rows: 10 }, 5, async () => {
      await new Promise((resolve) => setTimeout(resolve, 30));
      await job('t_c', id, 'queued');
      writes += 1;
      return true;
    }).then(() => 'created', (error: unknown) => (error instanceof QuotaRefusal ? error.code : String(error)));
    assert.deepEqual((await Promise.all([attempt('x1'), attempt('x2')])).sort(), ['QUOTA_EXCEEDED', 'created']);
    assert.equal(writes, 1);
    assert.equal(await redis.get(keys.tenantJobRowsDay('t_c', new Date().toISOString().slice(0, 10))), '5');
    assert.ok(await redis.pttl(keys.tenantJobRowsDay('t_c', new Date().toISOString().slice(0, 10))) > 86_400_000);
    // The rows of the day are checked at commit too; a write that created nothing counts nothing.
    await redis.hset(keys.job('x1'), 'status', 'completed');
    await redis.hset(keys.job('x2'), 'status', 'completed');
    const tooMany = await refusal(() => gate.commit('t_c', { daily_batch_rows: 10 }, 6, async () => true));
    assert.match(tooMany.message, /the job's 6 rows are more than the 5 left/);
    await gate.commit('t_c', { daily_batch_rows: 10 }, 5, async () => false);
    assert.equal(await redis.get(keys.tenantJobRowsDay('t_c', new Date().toISOString().slice(0, 10))), '5');
    assert.equal(await redis.exists(keys.tenantJobCreateLock('t_c')), 0, 'the lock is released');
  });
});
