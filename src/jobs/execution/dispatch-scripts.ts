import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../../protocol/project-paths';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import { TRIAGE_VERSION } from '../../version';
import { chunkRef } from './chunk-ref';

/** Command names carry triage's version, so two versions sharing one Redis never run each other's scripts. */
const SUFFIX = `_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;
const ENQUEUE = `triageJobEnqueueChunks${SUFFIX}`;
const DISPATCH = `triageJobDispatchNext${SUFFIX}`;
const PROGRESS = `triageJobRecordProgress${SUFFIX}`;

/** Refs per enqueue call: one script call never holds more than this many arguments. */
const ENQUEUE_BATCH = 1000;

/** The time constant of the throughput estimate (record-progress-1.lua). */
export const PROGRESS_TAU_MS = 10_000;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

/**
 * The dispatch scripts (src/jobs/lua/), loaded once per connection: queueing a job's
 * chunks, taking the next chunks round-robin over the tenants, and the throughput estimate.
 */
export class DispatchScripts {
  private readonly commands: Record<string, ScriptCall>;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {
    const source = (name: string): string => readFileSync(join(projectRoot(), 'src', 'jobs', 'lua', name), 'utf8');
    if (!(ENQUEUE in redis)) {
      redis.defineCommand(ENQUEUE, { numberOfKeys: 3, lua: source('enqueue-chunks-3.lua') });
      redis.defineCommand(DISPATCH, { numberOfKeys: 2, lua: source('dispatch-next-2.lua') });
      redis.defineCommand(PROGRESS, { numberOfKeys: 1, lua: source('record-progress-1.lua') });
    }
    this.commands = redis as unknown as Record<string, ScriptCall>;
  }

  /**
   * Queues chunks 0..chunks-1 of a job (whose record is already written) for dispatch,
   * in order, after the tenant's earlier chunks; the job is indexed as open until settled.
   */
  async enqueueJob(tenantId: string, jobId: string, chunks: number, expiresAtMs: number): Promise<void> {
    for (let first = 0; first < chunks; first += ENQUEUE_BATCH) {
      const refs: string[] = [];
      for (let chunk = first; chunk < Math.min(chunks, first + ENQUEUE_BATCH); chunk++) refs.push(chunkRef(jobId, chunk));
      await this.call(ENQUEUE, this.keys.jobBacklog(tenantId), this.keys.jobRing(), this.keys.jobsOpen(), tenantId, jobId, expiresAtMs, ...refs);
    }
  }

  /** Takes up to `count` chunk refs round-robin over the tenants, recording them in flight at `nowMs`. */
  async dispatchNext(count: number, nowMs: number): Promise<string[]> {
    if (count <= 0) return [];
    return await this.call(DISPATCH, this.keys.jobRing(), this.keys.jobInflight(), this.keys.jobBacklog(''), nowMs, count) as string[];
  }

  /** Adds finished rows to the job's throughput estimate; returns the new rate (rows/s), or null for no job. */
  async recordProgress(jobId: string, rows: number, nowMs: number): Promise<number | null> {
    const rate = await this.call(PROGRESS, this.keys.job(jobId), nowMs, rows, PROGRESS_TAU_MS) as string;
    return rate === '' ? null : Number(rate);
  }

  private call(name: string, ...args: (string | number)[]): Promise<unknown> {
    return (this.commands[name] as ScriptCall).call(this.redis, ...args);
  }
}
