import { defineLeaseScripts, type LeaseScripts } from '../controller/lease-scripts';
import { TriageError } from '../errors/triage-error';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { pipelinesBySlot } from '../redis/slot-batches';
import { randomText } from '../tenancy/api-key-format';
import type { TenantQuotas } from '../tenancy/quota-config';
import { calendarPeriods } from '../tenancy/quota-checks';
import { QuotaRefusal } from '../tenancy/quota-refusal';
import { TERMINAL_STATUSES, type JobStatus } from './job-record';

const DAY_MS = 86_400_000;
const LOCK_TTL_MS = 10_000;
const LOCK_WAIT_MS = 5_000;
const STATUS_BATCH = 500;

/** The most rows a job being created may hold, and the refusal when it holds more. */
export interface RowAllowance {
  readonly maxRows: number;
  refusal(): QuotaRefusal;
}

/**
 * A tenant's batch quotas at job creation: max_queued_jobs (jobs not ended), max_rows_per_job,
 * daily_batch_rows (a counter per tenant and UTC day, expiring after two days) and the
 * server's cap on rows per job. Checked before the body is read (nothing is read when the
 * tenant is already over), enforced while rows arrive (allowance), and checked again at
 * commit under a per-tenant lock, so two creations racing for the last slot or the last
 * rows of the day cannot both pass. A refusal writes nothing.
 */
export class JobQuotaGate {
  private readonly lock: LeaseScripts;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly serverMaxRows: number, private readonly nowMs: () => number = Date.now) {
    this.lock = defineLeaseScripts(redis);
  }

  /** Before reading the body: refuses a tenant over max_queued_jobs or with no daily rows left; else the rows the job may hold. */
  async admit(tenantId: string, quotas: TenantQuotas): Promise<RowAllowance> {
    await this.checkOpenJobs(tenantId, quotas);
    const daily = quotas.daily_batch_rows;
    const used = daily === null || daily === undefined ? 0 : await this.rowsToday(tenantId);
    if (daily !== null && daily !== undefined && used >= daily) throw this.dailyRefusal(tenantId, daily, used, 'no rows are left for a job today');
    const limits: { maxRows: number; refusal: () => QuotaRefusal }[] = [{
      maxRows: this.serverMaxRows,
      refusal: () => new QuotaRefusal('jobs_max_rows', `the job has more than ${this.serverMaxRows} rows, the most this server takes in one job (--jobs-max-rows): split it`, null, null, true),
    }];
    const perJob = quotas.max_rows_per_job;
    if (perJob !== null && perJob !== undefined) {
      limits.push({ maxRows: perJob, refusal: () => new QuotaRefusal('max_rows_per_job', `the job has more than ${perJob} rows: max_rows_per_job of tenant ${tenantId} is ${perJob}`, null, null, true) });
    }
    if (daily !== null && daily !== undefined) {
      limits.push({ maxRows: daily - used, refusal: () => this.dailyRefusal(tenantId, daily, used, `the job has more than the ${daily - used} rows left`) });
    }
    return limits.reduce((tightest, limit) => (limit.maxRows < tightest.maxRows ? limit : tightest));
  }

  /**
   * Runs `write` (the record and the backlog) while holding the tenant's creation lock,
   * after checking max_queued_jobs and daily_batch_rows again with the job's `rows`; then,
   * when `write` says it created the job, counts the rows into the day. Throws the refusal
   * without calling `write` when over.
   */
  async commit(tenantId: string, quotas: TenantQuotas, rows: number, write: () => Promise<boolean>): Promise<void> {
    const key = this.keys.tenantJobCreateLock(tenantId);
    const owner = randomText(16);
    await this.acquire(key, owner);
    try {
      await this.checkOpenJobs(tenantId, quotas);
      const daily = quotas.daily_batch_rows;
      if (daily !== null && daily !== undefined) {
        const used = await this.rowsToday(tenantId);
        if (used + rows > daily) throw this.dailyRefusal(tenantId, daily, used, `the job's ${rows} rows are more than the ${Math.max(0, daily - used)} left`);
      }
      if (!(await write())) return;
      const dayKey = this.keys.tenantJobRowsDay(tenantId, calendarPeriods(this.nowMs()).day);
      await this.redis.multi().incrby(dayKey, rows).pexpire(dayKey, 2 * DAY_MS).exec();
    } finally {
      await this.lock.release(key, owner).catch(() => undefined);
    }
  }

  /** The tenant's jobs not yet ended (index entries whose record is gone are dropped). */
  async openJobs(tenantId: string): Promise<number> {
    const index = this.keys.tenantJobs(tenantId);
    const ids = await this.redis.zrange(index, 0, -1);
    let open = 0;
    for (let first = 0; first < ids.length; first += STATUS_BATCH) {
      const batch = ids.slice(first, first + STATUS_BATCH);
      const pipeline = pipelinesBySlot(this.redis);
      for (const id of batch) pipeline.on(this.keys.job(id)).hget(this.keys.job(id), 'status');
      const replies = await pipeline.exec();
      const gone: string[] = [];
      replies.forEach(([error, status], position) => {
        if (error !== null) throw error;
        if (status === null) gone.push(batch[position] as string);
        else if (!TERMINAL_STATUSES.has(status as JobStatus)) open += 1;
      });
      if (gone.length > 0) await this.redis.zrem(index, ...gone);
    }
    return open;
  }

  private async checkOpenJobs(tenantId: string, quotas: TenantQuotas): Promise<void> {
    const limit = quotas.max_queued_jobs;
    if (limit === null || limit === undefined) return;
    const open = await this.openJobs(tenantId);
    if (open >= limit) {
      throw new QuotaRefusal('max_queued_jobs', `tenant ${tenantId} has ${open} job${open === 1 ? '' : 's'} not yet ended: max_queued_jobs is ${limit}; wait for one to end, or cancel one`, null, { limit, remaining: 0, resetMs: -1 }, false);
    }
  }

  private async rowsToday(tenantId: string): Promise<number> {
    return Number(await this.redis.get(this.keys.tenantJobRowsDay(tenantId, calendarPeriods(this.nowMs()).day)) ?? 0);
  }

  private dailyRefusal(tenantId: string, daily: number, used: number, why: string): QuotaRefusal {
    const resetMs = DAY_MS - (this.nowMs() % DAY_MS);
    return new QuotaRefusal('daily_batch_rows', `daily_batch_rows of tenant ${tenantId} is ${daily} rows per UTC day, ${used} used today: ${why}`,
      null, { limit: daily, remaining: Math.max(0, daily - used), resetMs }, true);
  }

  private async acquire(key: string, owner: string): Promise<void> {
    const deadline = this.nowMs() + LOCK_WAIT_MS;
    for (;;) {
      const remaining = await this.lock.acquire(key, owner, LOCK_TTL_MS);
      if (remaining === -1) return;
      if (this.nowMs() >= deadline) throw new TriageError('UNAVAILABLE', 'another job of this tenant is being created right now; retry in a moment');
      await new Promise((resolve) => setTimeout(resolve, Math.min(25, Math.max(1, remaining))));
    }
  }
}
