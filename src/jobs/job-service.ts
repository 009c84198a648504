import { TriageError } from '../errors/triage-error';
import type { AuditLog } from '../observability/audit-log';
import type { RedisClient } from '../redis/redis-client';
import { ADMIN_TENANT_ID, type Principal } from '../tenancy/tenancy-records';
import type { TenancyService } from '../tenancy/tenancy-service';
import type { JobIdempotency } from './job-idempotency';
import { isJobId } from './job-id';
import type { JobIntake } from './job-intake';
import { JobOptionsBuilder } from './job-options';
import type { JobQuotaGate } from './job-quota-gate';
import type { JobRecord, JobStatus } from './job-record';
import type { JobStore } from './job-store';
import { jobView } from './job-view';

export type JobView = Record<string, unknown>;

export interface JobServiceDependencies {
  readonly store: JobStore;
  readonly redis: RedisClient;
  readonly intake: JobIntake;
  readonly gate: JobQuotaGate;
  readonly idempotency: JobIdempotency;
  readonly tenants: Pick<TenancyService, 'listTenants'>;
  /** Creations and cancellations are audited (ids, model, counts; never a row). */
  readonly audit: Pick<AuditLog, 'record'>;
  readonly nowMs?: () => number;
}

export interface CreateJobRequest {
  readonly principal: Principal;
  readonly format: 'json' | 'jsonl';
  /** The query string's parameters (model, model_version, priority, completion_window). */
  readonly query: Readonly<Record<string, unknown>>;
  readonly idempotencyKey: string | null;
  /** The body, decompressed and size-capped; not read at all when the answer is known before. */
  readonly body: AsyncIterable<Buffer>;
}

export interface CreatedJob {
  readonly job: JobView;
  /** The Idempotency-Key named an existing job: this is it, and nothing was created. */
  readonly replayed: boolean;
}

/** Statuses a job can be cancelled from (`cancelling` is answered as it is: cancel is idempotent). */
const CANCELLABLE: readonly JobStatus[] = ['validating', 'queued', 'in_progress', 'finalizing'];
export const MAX_LIST = 1000;

/**
 * Batch jobs as a client sees them: create (with idempotency and quotas), get, list, cancel
 * and the result and error lines. A tenant's key sees only its tenant's jobs: any other id
 * is NOT_FOUND with the very message of an unknown one. The admin scope sees every job.
 */
export class JobService {
  private readonly nowMs: () => number;

  constructor(private readonly dependencies: JobServiceDependencies) {
    this.nowMs = dependencies.nowMs ?? Date.now;
  }

  async create(request: CreateJobRequest): Promise<CreatedJob> {
    const { principal } = request;
    const options = new JobOptionsBuilder().fromQuery(request.query);
    if (request.format === 'jsonl' && options.model === null) throw new TriageError('INVALID_ARGUMENT', 'query parameter model is missing: a JSONL body names its model with ?model=');
    if (request.idempotencyKey !== null) {
      const existing = await this.dependencies.idempotency.find(principal.tenantId, request.idempotencyKey);
      const record = existing === null ? null : await this.dependencies.store.get(existing);
      if (record !== null) return { job: await this.view(record), replayed: true };
    }
    const allowance = await this.dependencies.gate.admit(principal.tenantId, principal.quotas);
    const { record, replayed } = await this.dependencies.intake.run({
      tenantId: principal.tenantId,
      quotas: principal.quotas,
      anyModel: principal.bootstrap || principal.scopes.has('admin'),
      format: request.format,
      options,
      idempotencyKey: request.idempotencyKey,
      allowance,
      body: request.body,
    });
    if (!replayed) {
      await this.dependencies.audit.record({ actor: actorOf(principal), action: 'job.create', target: `job/${record.id}`, tenantId: record.tenant_id, model: record.model, before: null, after: jobSummary(record) });
    }
    return { job: await this.view(record), replayed };
  }

  async get(principal: Principal, jobId: string): Promise<JobView> {
    return this.view(await this.visible(principal, jobId));
  }

  /**
   * Jobs newest first: the key's tenant's; for the admin scope every tenant's, or one
   * tenant's with `tenant`. A tenant's key naming another tenant gets NOT_FOUND, as for a
   * tenant that does not exist.
   */
  async list(principal: Principal, tenant: string | null, limit: number): Promise<JobView[]> {
    const administrator = principal.scopes.has('admin');
    if (tenant !== null && !administrator && tenant !== principal.tenantId) throw new TriageError('NOT_FOUND', `no tenant '${tenant}'`);
    const tenants = tenant !== null ? [tenant] : administrator ? [...(await this.dependencies.tenants.listTenants()).map((each) => each.id), ADMIN_TENANT_ID] : [principal.tenantId];
    const { redis, store } = this.dependencies;
    const newest: { id: string; createdMs: number }[] = [];
    for (const each of tenants) {
      const entries = await redis.zrevrange(store.keys.tenantJobs(each), 0, limit - 1, 'WITHSCORES');
      for (let index = 0; index < entries.length; index += 2) newest.push({ id: entries[index] as string, createdMs: Number(entries[index + 1]) });
    }
    newest.sort((a, b) => b.createdMs - a.createdMs);
    const records = await Promise.all(newest.slice(0, limit).map((entry) => store.get(entry.id)));
    return Promise.all(records.filter((record): record is JobRecord => record !== null).map((record) => this.view(record)));
  }

  /** Asks the job to stop: queued or running -> cancelling (the workers finish it: cancelled). Idempotent. */
  async cancel(principal: Principal, jobId: string): Promise<JobView> {
    const record = await this.visible(principal, jobId);
    if (record.status !== 'cancelling') {
      const before = await this.dependencies.store.transition(jobId, CANCELLABLE, 'cancelling', new Date(this.nowMs()));
      if (before === '') throw unknownJob(jobId);
      if (!CANCELLABLE.includes(before) && before !== 'cancelling') {
        throw new TriageError('CONFLICT', `job ${jobId} is ${before}: only a job that has not ended can be cancelled`);
      }
      if (before !== 'cancelling') {
        await this.dependencies.audit.record({
          actor: actorOf(principal), action: 'job.cancel', target: `job/${jobId}`, tenantId: record.tenant_id, model: record.model,
          before: { ...jobSummary(record), status: before }, after: { ...jobSummary(record), status: 'cancelling' },
        });
      }
    }
    return this.get(principal, jobId);
  }

  /**
   * The job's result (or error) lines as JSONL, one committed chunk at a time in chunk
   * order, each decrypted only when it is its turn: memory holds one chunk. Lines of chunks
   * not yet committed follow once they are.
   */
  async lines(principal: Principal, jobId: string, kind: 'results' | 'errors'): Promise<AsyncIterable<Buffer>> {
    const record = await this.visible(principal, jobId);
    const { store } = this.dependencies;
    return (async function* chunks(): AsyncGenerator<Buffer> {
      for (let chunk = 0; chunk < record.chunks_total; chunk++) {
        const lines = kind === 'results' ? await store.getResults(jobId, chunk) : await store.getErrors(jobId, chunk);
        if (lines !== null && lines.length > 0) yield lines;
      }
    })();
  }

  /** The job if the principal may see it, else NOT_FOUND exactly as for an id that does not exist. */
  private async visible(principal: Principal, jobId: string): Promise<JobRecord> {
    const record = isJobId(jobId) ? await this.dependencies.store.get(jobId) : null;
    if (record === null || (!principal.scopes.has('admin') && record.tenant_id !== principal.tenantId)) throw unknownJob(jobId);
    return record;
  }

  private async view(record: JobRecord): Promise<JobView> {
    const [rate, atMs] = await this.dependencies.redis.hmget(this.dependencies.store.keys.job(record.id), 'progress_rate', 'progress_at_ms');
    return jobView(record, { rate: rate === null || rate === undefined ? null : Number(rate), atMs: atMs === null || atMs === undefined ? null : Number(atMs) }, this.nowMs());
  }
}

function actorOf(principal: Principal): { tenant_id: string; key_id: string } {
  return { tenant_id: principal.tenantId, key_id: principal.keyId };
}

/** What the audit keeps of a job: ids, model, settings and counts; never its rows or its metadata (client text). */
function jobSummary(record: JobRecord): Record<string, unknown> {
  return {
    id: record.id, tenant_id: record.tenant_id, model: record.model, model_version: record.model_version, status: record.status,
    priority: record.priority, completion_window_s: record.completion_window_s, rows: record.request_counts.total,
    chunks_total: record.chunks_total, created_at: record.created_at, expires_at: record.expires_at,
  };
}

function unknownJob(jobId: string): TriageError {
  return new TriageError('NOT_FOUND', `no job '${jobId.slice(0, 64)}'`);
}
