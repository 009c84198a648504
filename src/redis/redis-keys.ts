/**
 * Every key triage writes, under one prefix. Keys of one tenant share the hash tag
 * {t:<id>}, so one Lua script touches one slot under Redis Cluster; so do the keys of one
 * job ({j:<id>}), the registry ({registry}), job dispatch ({jobs}) and BullMQ ({bull}).
 * The other keys (tenant and key indexes, traffic, audit streams) have slots of their own:
 * a pipeline or MULTI that mixes tags goes through redis/slot-batches.ts.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Set of every tenant id. */
  tenants(): string { return `${this.prefix}tenants`; }
  /** Hash: tenant name -> id (names are unique). */
  tenantNames(): string { return `${this.prefix}tenant-names`; }
  tenant(tenantId: string): string { return `${this.tenantScope(tenantId)}:tenant`; }
  tenantKeys(tenantId: string): string { return `${this.tenantScope(tenantId)}:keys`; }
  quotas(tenantId: string): string { return `${this.tenantScope(tenantId)}:quotas`; }
  /** Hash of one API key, found by its public key id. */
  apiKey(keyId: string): string { return `${this.prefix}key:${keyId}`; }
  usage(tenantId: string, day: string): string { return `${this.tenantScope(tenantId)}:usage:${day}`; }
  /** Pub/sub channel telling every process to drop cached keys, tenants and quotas. */
  invalidation(): string { return `${this.prefix}invalidate`; }
  /** Counter numbering the invalidation messages (see InvalidationBus). */
  invalidationVersion(): string { return `${this.prefix}invalidate-version`; }
  /** The prefix of every admission key of a tenant (and model, for model overrides). */
  admission(tenantId: string, model: string | null): string {
    return model === null ? `${this.tenantScope(tenantId)}:q` : `${this.tenantScope(tenantId)}:q:m:${model}`;
  }

  /** Hash: the dashboard's traffic counts of one 10 s step (see observability/traffic/traffic-fields.ts), expiring after an hour. */
  traffic(stepSeconds: number): string { return `${this.prefix}traffic:${stepSeconds}`; }
  /** Stream of admin changes (who, what, when, before and after), capped by --audit-max-entries. */
  audit(): string { return `${this.prefix}audit`; }
  /** Stream of inference metadata (never a payload), trimmed by age and by --audit-inference-max-entries. */
  inferenceAudit(): string { return `${this.prefix}audit-inference`; }
  /** Hash: model name -> its registry record (JSON). Registry keys share the tag {registry}. */
  registryModels(): string { return `${this.prefix}{registry}:models`; }
  /** Hash: instance address -> observed state of one model there (JSON), written by the controller. */
  registryPlacement(model: string): string { return `${this.prefix}{registry}:placement:${model}`; }
  /** Hash: model name -> its footprint as measured after its last load (JSON MeasuredFootprint), written by the controller. */
  measuredFootprints(): string { return `${this.prefix}{registry}:footprints`; }
  /** The controller's leader lease (SET NX PX). */
  controllerLease(): string { return `${this.prefix}{registry}:controller-lease`; }
  /** Pub/sub channel: a model's desired state changed (payload: the model name). */
  registryChanges(): string { return `${this.prefix}registry-changes`; }
  /** Hash: model name -> when a request last used it (ms since the epoch; only ever raised), written by the proxies. */
  modelRecency(): string { return `${this.prefix}{registry}:recency`; }
  /** Hash: model name -> why it has fewer replicas than wanted, written by the controller (absent: fully placed). */
  unplacedModels(): string { return `${this.prefix}{registry}:unplaced`; }
  /** Pub/sub channel: a request waits for a model no instance holds (payload: the model name). */
  modelDemand(): string { return `${this.prefix}model-demand`; }

  /** Hash: one batch job's record. Every key of one job shares the tag {j:<id>}. */
  job(jobId: string): string { return `${this.jobScope(jobId)}:job`; }
  /** String: encrypted input rows of chunk n. */
  jobInput(jobId: string, chunk: number): string { return `${this.jobScope(jobId)}:in:${chunk}`; }
  /** String: encrypted result lines of chunk n (rows that succeeded). */
  jobResults(jobId: string, chunk: number): string { return `${this.jobScope(jobId)}:out:${chunk}`; }
  /** String: encrypted error lines of chunk n (rows that failed). */
  jobErrors(jobId: string, chunk: number): string { return `${this.jobScope(jobId)}:err:${chunk}`; }
  /** Set: the chunk numbers whose results are committed (each exactly once). */
  jobDone(jobId: string): string { return `${this.jobScope(jobId)}:done`; }
  /** Sorted set: a tenant's job ids by creation time (ms). */
  tenantJobs(tenantId: string): string { return `${this.tenantScope(tenantId)}:jobs`; }
  /** Hash: a tenant's Idempotency-Key -> job id. */
  tenantJobIdempotency(tenantId: string): string { return `${this.tenantScope(tenantId)}:job-idempotency`; }
  /** String: a short lock serializing the final step of a tenant's job creations (quota count, record, backlog). */
  tenantJobCreateLock(tenantId: string): string { return `${this.tenantScope(tenantId)}:job-create-lock`; }
  /** Counter: rows of the tenant's jobs created on one UTC day (daily_batch_rows), expiring after two days. */
  tenantJobRowsDay(tenantId: string, day: string): string { return `${this.tenantScope(tenantId)}:job-rows:${day}`; }
  /** List: a tenant's chunks waiting for dispatch (`<job id>:<chunk>`). Dispatch keys share the tag {jobs}. */
  jobBacklog(tenantId: string): string { return `${this.prefix}{jobs}:backlog:${tenantId}`; }
  /** List: the tenants with a non-empty backlog, rotated by the fair dispatcher. */
  jobRing(): string { return `${this.prefix}{jobs}:ring`; }
  /** Sorted set: chunk refs taken from the backlogs and not yet finished -> when taken or last seen alive (ms). */
  jobInflight(): string { return `${this.prefix}{jobs}:inflight`; }
  /** Sorted set: jobs not yet settled (running, or ended but not yet filled and expiring) -> expires_at (ms). */
  jobsOpen(): string { return `${this.prefix}{jobs}:open`; }
  /** Sorted set: `<tenant id> <job id>` of ended jobs -> when their keys expire (ms), to drop them from the tenant index. */
  jobsRetained(): string { return `${this.prefix}{jobs}:retained`; }
  /** String: a short lock so one process at a time settles a job (fills its missing rows, ends it). */
  jobSettleLock(jobId: string): string { return `${this.jobScope(jobId)}:settle-lock`; }
  /** BullMQ's key prefix (its keys are `<prefix>:<queue>:...`), one hash tag for every queue key. */
  bullPrefix(): string { return `${this.prefix}{bull}`; }

  private jobScope(jobId: string): string {
    return `${this.prefix}{j:${jobId}}`;
  }

  private tenantScope(tenantId: string): string {
    return `${this.prefix}{t:${tenantId}}`;
  }
}
