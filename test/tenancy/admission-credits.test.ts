import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { Redis } from 'ioredis';
import { silentLogger } from '../../src/observability/logger';
import { closeRedisClient, createRedisClient, type RedisClient } from '../../src/redis/redis-client';
import { RedisKeys } from '../../src/redis/redis-keys';
import { QuotaAdmission, type Admission } from '../../src/tenancy/quota-admission';
import { calendarPeriods } from '../../src/tenancy/quota-checks';
import { parseTenantQuotas, type TenantQuotas } from '../../src/tenancy/quota-config';
import { QuotaRefusal } from '../../src/tenancy/quota-refusal';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

const CREDIT_MS = 100;
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** Admits one request; null when a quota refused it (any other error fails the test). */
async function admitOrRefused(admission: QuotaAdmission, tenant: string, quotas: TenantQuotas, inferences = 1): Promise<Admission | null> {
  try {
    return await admission.admit(tenant, quotas, 'simple', inferences, 10);
  } catch (error) {
    if (error instanceof QuotaRefusal) return null;
    throw error;
  }
}

describe('tenancy: admission credits (a busy tenant far from its limits is admitted without a round trip per request; real Redis)', function () {
  this.timeout(30_000);
  let url: string;
  let redis: RedisClient;
  let watcher: Redis;
  const admissions: QuotaAdmission[] = [];

  before(async () => {
    url = await sharedRedisUrl();
    redis = createRedisClient({ url, name: 'test:credits', failFast: true });
    watcher = new Redis(url);
  });
  after(async () => {
    await Promise.all(admissions.map((admission) => admission.stop()));
    await closeRedisClient(redis);
    watcher.disconnect();
  });

  /** A process's admission; `shared` makes it a second process of the same deployment (same keys). */
  function setup(creditMs = CREDIT_MS, shared?: RedisKeys): { admission: QuotaAdmission; keys: RedisKeys; tenant: string } {
    const keys = shared ?? new RedisKeys(uniquePrefix());
    const admission = new QuotaAdmission(redis, keys, {
      leaseTtlMs: 30_000,
      redisDown: { rate: 'open', concurrency: 'open', budget: 'closed' },
      processId: `test-${admissions.length}`,
      logger: silentLogger(),
      creditMs,
    });
    admission.start();
    admissions.push(admission);
    return { admission, keys, tenant: `t_${admissions.length}` };
  }

  /** Script calls (EVALSHA/EVAL) naming the tenant's keys, counted by Redis itself while `work` runs. */
  async function scriptCallsDuring(tenant: string, work: () => Promise<void>): Promise<number> {
    const client = new Redis(url);
    const monitor = await client.monitor();
    let calls = 0;
    monitor.on('monitor', (_time: string, args: string[]) => {
      if (['evalsha', 'eval'].includes(String(args[0]).toLowerCase()) && args.some((arg) => arg.includes(`{t:${tenant}}`))) calls += 1;
    });
    try {
      await work();
      await sleep(20);
    } finally {
      monitor.disconnect();
      client.disconnect();
    }
    return calls;
  }

  /** Redis's clock, ms (the scripts' clock). */
  async function redisNowMs(): Promise<number> {
    const time = await watcher.time();
    return Number(time[0]) * 1000 + Number(time[1]) / 1000;
  }

  it('400 requests one after the other take a few script calls, not 400; once the tenant is idle, its budget counts exactly the 400 and no slot is left held', async () => {
    const { admission, keys, tenant } = setup();
    // 100/s with a huge burst: each request adds 10 ms of debt to the rate's arrival time.
    const quotas = parseTenantQuotas({ requests_per_second: 100, burst: 100_000, max_concurrent: 1000, daily_requests: 1_000_000 });
    const startMs = await redisNowMs();
    const admitted: Admission[] = [];
    let fromCredit = 0;
    const calls = await scriptCallsDuring(tenant, async () => {
      for (let n = 0; n < 400; n++) {
        const ticket = admission.admit(tenant, quotas, 'simple', 1, 10);
        if (!(ticket instanceof Promise)) fromCredit += 1;
        const resolved = await ticket;
        admitted.push(resolved);
        resolved.release();
        await nextTurn();
      }
    });
    assert.equal(admitted.length, 400);
    assert.ok(fromCredit >= 300, `admitted from the process's credit, with no round trip: ${fromCredit} of 400`);
    assert.ok(calls <= 50, `script calls for 400 requests: ${calls} (without credits: 400)`);
    // The process's own counts (triage_quota_admissions_total, triage_quota_script_calls_total) agree.
    const counts = admission.counts();
    assert.equal(counts.fromCredit, fromCredit);
    assert.equal(counts.fromCredit + counts.byRedis, 400);
    assert.equal(counts.admitCalls + counts.creditCalls, calls, 'every script call Redis saw, counted');
    // Idle for two credit periods: the units not spent go back, the slots are given back.
    const scope = keys.admission(tenant, null);
    const budgetKey = `${scope}:req:d:${calendarPeriods(Date.now()).day}`;
    await sleep(4 * CREDIT_MS);
    assert.equal(await watcher.get(budgetKey), '400', 'daily_requests counts what ran, not what was taken in advance');
    assert.equal(await watcher.zcard(`${scope}:conc`), 0, 'no concurrency slot held by an idle tenant');
    // The rate's arrival time moved by the 400 requests only: the units not spent went back.
    const arrivalMs = Number(await watcher.get(`${scope}:rps`)) - startMs;
    assert.ok(arrivalMs >= 400 * 10 && arrivalMs <= 400 * 10 + 100, `the rate counts 400 requests (4000 ms of arrival time): ${arrivalMs.toFixed(1)} ms`);
  });

  it('near a budget, credits shrink to nothing: exactly the budget is admitted, and it counts exactly that', async () => {
    const { admission, keys, tenant } = setup();
    const quotas = parseTenantQuotas({ daily_requests: 300, requests_per_second: 100_000, burst: 100_000 });
    let admitted = 0;
    let refused = 0;
    for (let n = 0; n < 450; n++) {
      const ticket = await admitOrRefused(admission, tenant, quotas);
      if (ticket === null) refused += 1;
      else {
        admitted += 1;
        ticket.release();
      }
      await nextTurn();
    }
    assert.equal(admitted, 300);
    assert.equal(refused, 150);
    await sleep(4 * CREDIT_MS);
    assert.equal(await watcher.get(`${keys.admission(tenant, null)}:req:d:${calendarPeriods(Date.now()).day}`), '300');
  });

  it('max_concurrent 12 holds with calls admitted from credit and by Redis alike: 12 at once run, the 13th is refused, Redis holds 12 slots', async () => {
    const { admission, keys, tenant } = setup();
    const quotas = parseTenantQuotas({ max_concurrent: 12, requests_per_second: 100_000, burst: 100_000 });
    // Warm up: a busy tenant, so the process holds credit and slots of its own.
    for (let n = 0; n < 40; n++) {
      (await admission.admit(tenant, quotas, 'simple', 1, 10)).release();
      await nextTurn();
    }
    const held: Admission[] = [];
    let refusedAt = -1;
    for (let n = 0; n < 13; n++) {
      const ticket = await admitOrRefused(admission, tenant, quotas);
      if (ticket === null) {
        refusedAt = n;
        break;
      }
      held.push(ticket);
    }
    assert.equal(held.length, 12);
    assert.equal(refusedAt, 12);
    assert.ok(await watcher.zcard(`${keys.admission(tenant, null)}:conc`) <= 12, 'never more slots in Redis than the limit');
    for (const ticket of held) ticket.release();
    await sleep(4 * CREDIT_MS);
    assert.equal(await watcher.zcard(`${keys.admission(tenant, null)}:conc`), 0, 'every slot given back');
    assert.ok(await admitOrRefused(admission, tenant, quotas) !== null, 'admitted again once the calls ended');
  });

  it('two processes on one tenant, credits granted until its rate comes near: together they admit no more than the burst and the rate allow, and reach it', async () => {
    const first = setup();
    const second = setup(CREDIT_MS, first.keys);
    const tenant = first.tenant;
    // 200/s with burst 2000, each process offering about 500/s or more for 2.5 s: credits
    // while the bucket is far from empty, then request by request.
    const quotas = parseTenantQuotas({ requests_per_second: 200, burst: 2000 });
    let admitted = 0;
    let fromCredit = 0;
    const offer = async (admission: QuotaAdmission, untilMs: number): Promise<void> => {
      while (Date.now() < untilMs) {
        try {
          const ticket = admission.admit(tenant, quotas, 'simple', 1, 10);
          if (!(ticket instanceof Promise)) fromCredit += 1;
          (await ticket).release();
          admitted += 1;
        } catch (error) {
          if (!(error instanceof QuotaRefusal)) throw error;
        }
        await sleep(1);
      }
    };
    const startedMs = await redisNowMs();
    const untilMs = Date.now() + 2500;
    await Promise.all([offer(first.admission, untilMs), offer(second.admission, untilMs)]);
    const seconds = ((await redisNowMs()) - startedMs) / 1000;
    assert.ok(fromCredit >= 500, `admitted from credits: ${fromCredit}`);
    assert.ok(admitted <= 2000 + Math.ceil(200 * (seconds + CREDIT_MS / 1000)), `admitted ${admitted} in ${seconds.toFixed(2)} s: at most burst + rate x (time + one credit period)`);
    assert.ok(admitted >= (2000 + 200 * seconds) * 0.9, `the limit is reached, not starved by credits held elsewhere: ${admitted} in ${seconds.toFixed(2)} s`);
  });

  it('two processes on one tenant near max_concurrent: a busy process gives its idle slots back, so the other reaches the limit (and Redis never holds more)', async () => {
    const first = setup();
    const second = setup(CREDIT_MS, first.keys);
    const tenant = first.tenant;
    const quotas = parseTenantQuotas({ max_concurrent: 20 });
    const leaseKey = `${first.keys.admission(tenant, null)}:conc`;
    // The first process is busy with one call at a time, on its credit (holding idle slots).
    let busy = true;
    let firstAdmitted = 0;
    const steady = (async () => {
      while (busy) {
        const ticket = await admitOrRefused(first.admission, tenant, quotas);
        if (ticket !== null) {
          firstAdmitted += 1;
          await sleep(1);
          ticket.release();
        }
        await sleep(1);
      }
    })();
    await sleep(300);
    // The second opens calls and holds them, retrying a refusal, for up to 1 s.
    const held: Admission[] = [];
    let most = 0;
    const untilMs = Date.now() + 1000;
    while (held.length < 19 && Date.now() < untilMs) {
      const ticket = await admitOrRefused(second.admission, tenant, quotas);
      if (ticket === null) await sleep(5);
      else held.push(ticket);
      most = Math.max(most, await watcher.zcard(leaseKey));
    }
    busy = false;
    await steady;
    for (const ticket of held) ticket.release();
    assert.ok(firstAdmitted >= 50, `the first process kept working: ${firstAdmitted} calls`);
    assert.equal(held.length, 19, 'the second process holds every slot but the one the first is using');
    assert.ok(most <= 20, `slots in Redis at most: ${most}`);
  });

  it('with --quota-credit 0 every request is admitted by Redis on its own', async () => {
    const { admission, tenant } = setup(0);
    const quotas = parseTenantQuotas({ requests_per_second: 100_000, burst: 100_000 });
    const calls = await scriptCallsDuring(tenant, async () => {
      for (let n = 0; n < 50; n++) {
        const ticket = admission.admit(tenant, quotas, 'simple', 1, 10);
        assert.ok(ticket instanceof Promise, 'no admission without Redis');
        (await ticket).release();
      }
    });
    assert.equal(calls, 50);
  });
});
