import { TriageError } from '../errors/triage-error';
import type { RedisClient } from '../redis/redis-client';
import { modelAllowed, type TenantQuotas } from '../tenancy/quota-config';
import type { BodyItem, BodyReader } from './body-rows';
import { ChunkWriter, chunkRowsFor } from './chunk-writer';
import type { JobIdempotency } from './job-idempotency';
import { newJobId } from './job-id';
import { jobPriority, JobOptionsBuilder } from './job-options';
import type { JobQuotaGate, RowAllowance } from './job-quota-gate';
import type { JobRecord } from './job-record';
import type { JobStore } from './job-store';
import { JsonBodyReader } from './json-body-reader';
import { JsonlReader } from './jsonl-reader';
import type { ModelSignature, ModelSignatureSource } from './model-signature';
import { packRow } from './packed-rows';
import { RowProblems } from './row-problem';
import { RowValidator } from './row-validator';

/** Largest single row (one JSON object), in bytes. */
export const MAX_ROW_BYTES = 32 * 1024 * 1024;
/** Stored chunks outlive the longest completion window by a day unless the job's window is known before its first row. */
const DAY_MS = 86_400_000;
const LONGEST_INPUT_TTL_MS = 31 * DAY_MS;

export interface JobIntakeDependencies {
  readonly store: JobStore;
  readonly redis: RedisClient;
  readonly signatures: ModelSignatureSource;
  readonly gate: JobQuotaGate;
  readonly idempotency: JobIdempotency;
  /** Queues the job's chunks 0..chunks-1 for dispatch (its record exists). */
  readonly enqueue: (tenantId: string, jobId: string, chunks: number, expiresAtMs: number) => Promise<void>;
  /** --jobs-chunk-rows (0: automatic). */
  readonly chunkRows: number;
  readonly nowMs?: () => number;
}

/** One creation: who, the body's format and query, and the body itself (decompressed, size-capped). */
export interface IntakeRequest {
  readonly tenantId: string;
  readonly quotas: TenantQuotas;
  /** Administrators may use every model whatever their quotas say. */
  readonly anyModel: boolean;
  readonly format: 'json' | 'jsonl';
  readonly options: JobOptionsBuilder;
  readonly idempotencyKey: string | null;
  readonly allowance: RowAllowance;
  readonly body: AsyncIterable<Buffer>;
}

export interface IntakeResult {
  readonly record: JobRecord;
  /** True when the Idempotency-Key named a job created meanwhile by another request: that job is the answer. */
  readonly replayed: boolean;
}

/**
 * Reads a job body row by row: every row is checked against the model, and while all rows
 * are good they are packed (each input's raw bytes, packed-rows.ts) and cut into chunks
 * stored (encrypted) as they fill, so memory holds one chunk, never the job. At the end: any problem -> the chunks are deleted and a 400 lists
 * the first problems; else, under the tenant's quota lock, the record (queued) is written,
 * then the chunks are queued for dispatch. Any failure on the way deletes what was written.
 */
export class JobIntake {
  private readonly nowMs: () => number;

  constructor(private readonly dependencies: JobIntakeDependencies) {
    this.nowMs = dependencies.nowMs ?? Date.now;
  }

  async run(request: IntakeRequest): Promise<IntakeResult> {
    const { store, redis } = this.dependencies;
    const jobId = newJobId();
    const createdAtMs = this.nowMs();
    const reader: BodyReader = request.format === 'jsonl' ? new JsonlReader(MAX_ROW_BYTES) : new JsonBodyReader(MAX_ROW_BYTES);
    const problems = new RowProblems();
    // Known once the model is: at the first row (or the body's end).
    const state: { signature: ModelSignature | null; validator: RowValidator | null; writer: ChunkWriter | null } = { signature: null, validator: null, writer: null };
    let rows = 0;
    let created = false;

    const start = async (): Promise<void> => {
      const { model, modelVersion } = request.options;
      if (model === null) throw new TriageError('INVALID_ARGUMENT', 'model is missing before the first row: give "model" before "rows" in the body, or ?model= in the URL');
      if (!request.anyModel && !modelAllowed(request.quotas, model)) {
        throw new TriageError('PERMISSION_DENIED', `tenant ${request.tenantId} may not use model '${model}' (allowed_models of its quotas)`);
      }
      const signature = await this.dependencies.signatures.describe(model, modelVersion);
      const ttlMs = request.options.completionWindowKnown ? request.options.build().completionWindowS * 1000 + DAY_MS : LONGEST_INPUT_TTL_MS;
      state.signature = signature;
      state.validator = new RowValidator(signature);
      state.writer = new ChunkWriter(store, redis, jobId, chunkRowsFor(this.dependencies.chunkRows, signature.maxBatchSize), ttlMs);
    };
    const handle = async (item: BodyItem): Promise<void> => {
      if (item.kind === 'field') {
        if (state.validator !== null && (item.name === 'model' || item.name === 'model_version')) {
          throw new TriageError('INVALID_ARGUMENT', `${item.name} must come before "rows" in the body (the rows are checked against the model as they arrive)`);
        }
        request.options.field(item.name, item.value);
        return;
      }
      if (state.validator === null) await start();
      const { validator, writer } = state as { validator: RowValidator; writer: ChunkWriter };
      rows += 1;
      if (rows > request.allowance.maxRows) throw request.allowance.refusal();
      const check = parseRow(item.text, item.row, validator);
      if ('problems' in check) {
        // The first bad row: nothing of this job will be stored, so what was is deleted now.
        if (problems.empty) await writer.discard();
        problems.add(check.problems);
      } else if (problems.empty) {
        await writer.add(packRow(check.row.customId, check.row.inputs));
      }
    };

    try {
      for await (const chunk of request.body) {
        for (const item of reader.push(chunk)) await handle(item);
      }
      for (const item of reader.end()) await handle(item);
      if (state.validator === null) await start();
      if (rows === 0) throw new TriageError('INVALID_ARGUMENT', request.format === 'jsonl' ? 'the body has no rows: send one JSON row per line' : '"rows" is missing or empty: a job needs at least one row');
      if (!problems.empty) throw problems.error(rows);
      const { signature, writer: chunks } = state as { signature: ModelSignature; writer: ChunkWriter };
      await chunks.flush();
      const record = jobRecord(jobId, request.tenantId, request.options.build(), signature, rows, chunks, createdAtMs, this.nowMs());
      let replayedId: string | null = null;
      await this.dependencies.gate.commit(request.tenantId, request.quotas, rows, async () => {
        if (request.idempotencyKey !== null) replayedId = await this.dependencies.idempotency.find(request.tenantId, request.idempotencyKey);
        if (replayedId !== null) return false;
        created = true;
        await store.create(record);
        if (request.idempotencyKey !== null) await this.dependencies.idempotency.remember(request.tenantId, request.idempotencyKey, jobId);
        await this.dependencies.enqueue(request.tenantId, jobId, record.chunks_total, Date.parse(record.expires_at));
        return true;
      });
      if (replayedId !== null) {
        await chunks.discard();
        const existing = await store.get(replayedId);
        if (existing !== null) return { record: existing, replayed: true };
        throw new TriageError('CONFLICT', 'the job created with this Idempotency-Key was removed meanwhile; retry');
      }
      return { record, replayed: false };
    } catch (error) {
      await state.writer?.discard().catch(() => undefined);
      if (created) await this.removeRecord(request.tenantId, jobId, request.idempotencyKey).catch(() => undefined);
      throw error;
    }
  }

  /** Undoes a record written by a creation that failed after it (the backlog never got its chunks). */
  private async removeRecord(tenantId: string, jobId: string, idempotencyKey: string | null): Promise<void> {
    const { redis, store } = this.dependencies;
    await redis.del(store.keys.job(jobId));
    await redis.zrem(store.keys.tenantJobs(tenantId), jobId);
    if (idempotencyKey !== null && await redis.hget(store.keys.tenantJobIdempotency(tenantId), idempotencyKey) === jobId) {
      await redis.hdel(store.keys.tenantJobIdempotency(tenantId), idempotencyKey);
    }
  }
}

function parseRow(text: Buffer, row: number, validator: RowValidator): ReturnType<RowValidator['check']> {
  let value: unknown;
  try {
    value = JSON.parse(text.toString('utf8'));
  } catch (error) {
    return { problems: [{ row, custom_id: null, field: 'row', rule: `is not valid JSON: ${(error as Error).message}` }] };
  }
  return validator.check(value, row);
}

function jobRecord(id: string, tenantId: string, options: ReturnType<JobOptionsBuilder['build']>, signature: ModelSignature, rows: number,
  chunks: ChunkWriter, createdAtMs: number, nowMs: number): JobRecord {
  return {
    id,
    tenant_id: tenantId,
    model: options.model,
    model_version: options.modelVersion,
    status: 'queued',
    priority: jobPriority(options, signature),
    completion_window_s: options.completionWindowS,
    metadata: options.metadata,
    request_counts: { total: rows, completed: 0, failed: 0 },
    chunk_rows: chunks.chunkRows,
    chunks_total: chunks.chunks,
    chunks_done: 0,
    created_at: new Date(createdAtMs).toISOString(),
    queued_at: new Date(nowMs).toISOString(),
    in_progress_at: null,
    finalizing_at: null,
    completed_at: null,
    failed_at: null,
    cancelling_at: null,
    cancelled_at: null,
    expired_at: null,
    expires_at: new Date(createdAtMs + options.completionWindowS * 1000).toISOString(),
    error: null,
  };
}
