import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../protocol/project-paths';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { TRIAGE_VERSION } from '../version';
import { STATUS_TIMESTAMPS, type JobRecord, type JobStatus } from './job-record';
import type { PayloadCipher } from './payload-cipher';

const SUFFIX = `_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;
const COMMIT_CHUNK = `triageJobCommitChunk${SUFFIX}`;
const TRANSITION = `triageJobTransition${SUFFIX}`;

type ScriptCall = (...args: (string | number | Buffer)[]) => Promise<unknown>;

/** What committing a chunk did. */
export interface ChunkCommit {
  /** False when the chunk had been committed before (its rows were not counted again). */
  readonly committed: boolean;
  readonly chunksDone: number;
  readonly chunksTotal: number;
}

/** The numeric fields of the job hash; everything else is a string (metadata as JSON). */
const INTEGER_FIELDS = ['priority', 'completion_window_s', 'total', 'completed', 'failed', 'chunk_rows', 'chunks_total', 'chunks_done'] as const;

/**
 * Jobs in Redis: the record hash, encrypted input/result/error blobs per chunk, the done
 * set that makes a chunk's commit exactly-once, and each tenant's job index. Every key of
 * one job carries the tag {j:<id>}, so each script touches one slot.
 */
export class JobStore {
  private readonly scripts: Record<string, ScriptCall>;

  constructor(private readonly redis: RedisClient, readonly keys: RedisKeys, readonly cipher: PayloadCipher) {
    const source = (name: string): string => readFileSync(join(projectRoot(), 'src', 'jobs', 'lua', name), 'utf8');
    if (!(COMMIT_CHUNK in redis)) {
      redis.defineCommand(COMMIT_CHUNK, { numberOfKeys: 4, lua: source('commit-chunk-4.lua') });
      redis.defineCommand(TRANSITION, { numberOfKeys: 1, lua: source('transition-1.lua') });
    }
    this.scripts = redis as unknown as Record<string, ScriptCall>;
  }

  /** Writes a new job's record and indexes it under its tenant. */
  async create(record: JobRecord): Promise<void> {
    await this.redis.hset(this.keys.job(record.id), toHash(record));
    await this.redis.zadd(this.keys.tenantJobs(record.tenant_id), Date.parse(record.created_at), record.id);
  }

  async get(jobId: string): Promise<JobRecord | null> {
    const hash = await this.redis.hgetall(this.keys.job(jobId));
    return Object.keys(hash).length === 0 ? null : fromHash(hash);
  }

  /** A tenant's job ids, newest first. */
  async listIds(tenantId: string, limit: number): Promise<string[]> {
    return this.redis.zrevrange(this.keys.tenantJobs(tenantId), 0, limit - 1);
  }

  /**
   * Moves the job to `to` if its status is one of `from`, stamping the time. Returns the
   * status it had ('' for no job): the move happened only if that is in `from`.
   */
  async transition(jobId: string, from: readonly JobStatus[], to: JobStatus, at: Date): Promise<JobStatus | ''> {
    const call = this.scripts[TRANSITION] as ScriptCall;
    return await call.call(this.redis, this.keys.job(jobId), to, STATUS_TIMESTAMPS[to], at.toISOString(), ...from) as JobStatus | '';
  }

  /** Stores a chunk's rows (packed-rows.ts); with ttlMs the blob expires by itself (an upload that dies half-way leaves nothing for ever). */
  async putInput(jobId: string, chunk: number, rows: Buffer, ttlMs?: number): Promise<void> {
    const blob = this.cipher.encrypt(rows, `${jobId}:input:${chunk}`);
    if (ttlMs === undefined) await this.redis.set(this.keys.jobInput(jobId, chunk), blob);
    else await this.redis.set(this.keys.jobInput(jobId, chunk), blob, 'PX', ttlMs);
  }

  /** The chunk's rows as stored (packed, or JSONL for chunks stored before that format), or null when the input is gone (deleted after the job ended). */
  async getInput(jobId: string, chunk: number): Promise<Buffer | null> {
    const blob = await this.redis.getBuffer(this.keys.jobInput(jobId, chunk));
    return blob === null ? null : this.cipher.decrypt(blob, `${jobId}:input:${chunk}`);
  }

  /** Stores a chunk's result and error lines (JSONL) and counts them, exactly once per chunk. */
  async commitChunk(jobId: string, chunk: number, resultsJsonl: Buffer, errorsJsonl: Buffer, completed: number, failed: number): Promise<ChunkCommit> {
    const call = this.scripts[COMMIT_CHUNK] as ScriptCall;
    const [committed, chunksDone, chunksTotal] = await call.call(this.redis,
      this.keys.job(jobId), this.keys.jobDone(jobId), this.keys.jobResults(jobId, chunk), this.keys.jobErrors(jobId, chunk),
      chunk, this.cipher.encrypt(resultsJsonl, `${jobId}:results:${chunk}`), this.cipher.encrypt(errorsJsonl, `${jobId}:errors:${chunk}`),
      completed, failed) as [number, number, number];
    return { committed: committed === 1, chunksDone, chunksTotal };
  }

  async isChunkDone(jobId: string, chunk: number): Promise<boolean> {
    return (await this.redis.sismember(this.keys.jobDone(jobId), String(chunk))) === 1;
  }

  /** A committed chunk's result lines (JSONL), or null if it has none stored. */
  async getResults(jobId: string, chunk: number): Promise<Buffer | null> {
    const blob = await this.redis.getBuffer(this.keys.jobResults(jobId, chunk));
    return blob === null ? null : this.cipher.decrypt(blob, `${jobId}:results:${chunk}`);
  }

  async getErrors(jobId: string, chunk: number): Promise<Buffer | null> {
    const blob = await this.redis.getBuffer(this.keys.jobErrors(jobId, chunk));
    return blob === null ? null : this.cipher.decrypt(blob, `${jobId}:errors:${chunk}`);
  }
}

function toHash(record: JobRecord): Record<string, string> {
  const { request_counts: counts, metadata, ...rest } = record;
  const hash: Record<string, string> = { metadata: JSON.stringify(metadata), total: String(counts.total), completed: String(counts.completed), failed: String(counts.failed) };
  for (const [field, value] of Object.entries(rest)) {
    if (value !== null) hash[field] = String(value);
  }
  return hash;
}

function fromHash(hash: Record<string, string>): JobRecord {
  const value = (field: string): string | null => hash[field] ?? null;
  const integer = (field: typeof INTEGER_FIELDS[number]): number => Number(hash[field] ?? 0);
  return {
    id: value('id') ?? '',
    tenant_id: value('tenant_id') ?? '',
    model: value('model') ?? '',
    model_version: value('model_version') ?? '',
    status: (value('status') ?? 'failed') as JobStatus,
    priority: integer('priority'),
    completion_window_s: integer('completion_window_s'),
    metadata: JSON.parse(value('metadata') ?? '{}') as Record<string, string>,
    request_counts: { total: integer('total'), completed: integer('completed'), failed: integer('failed') },
    chunk_rows: integer('chunk_rows'),
    chunks_total: integer('chunks_total'),
    chunks_done: integer('chunks_done'),
    created_at: value('created_at') ?? '',
    queued_at: value('queued_at'),
    in_progress_at: value('in_progress_at'),
    finalizing_at: value('finalizing_at'),
    completed_at: value('completed_at'),
    failed_at: value('failed_at'),
    cancelling_at: value('cancelling_at'),
    cancelled_at: value('cancelled_at'),
    expired_at: value('expired_at'),
    expires_at: value('expires_at') ?? '',
    error: value('error'),
  };
}
