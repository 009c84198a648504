import { TriageError } from '../errors/triage-error';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { pipelinesBySlot } from '../redis/slot-batches';

/** Entries of a tenant's hash looked at per pruning step. */
const PRUNE_PAGE = 100;

const KEY_TEXT = /^[\x21-\x7e]{1,255}$/;

/** Checks an Idempotency-Key header: 1-255 visible ASCII characters. */
export function parseIdempotencyKey(header: string | string[] | undefined): string | null {
  if (header === undefined) return null;
  if (typeof header !== 'string' || !KEY_TEXT.test(header)) {
    throw new TriageError('INVALID_ARGUMENT', 'Idempotency-Key must be given once, 1-255 visible ASCII characters (e.g. a UUID)');
  }
  return header;
}

/**
 * A tenant's Idempotency-Keys (hash `tenantJobIdempotency`: key -> job id). A key maps to
 * the first job created with it for as long as that job exists; an entry whose job is gone
 * (past retention) counts as absent and is replaced. The key is also kept in the job's
 * hash (`idempotency_key`), so whoever deletes the job can delete the entry. Jobs past
 * retention expire without anyone deleting them: each `remember` also drops the stale
 * entries of one page of the tenant's hash (a cursor per tenant walks it), so the hash
 * stays near the number of the tenant's live jobs at a bounded cost per creation.
 */
export class JobIdempotency {
  /** tenant id -> HSCAN cursor of the next page to prune ('0': start over). */
  private readonly pruneCursors = new Map<string, string>();

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  /** The id of the tenant's existing job created with `key`, or null. */
  async find(tenantId: string, key: string): Promise<string | null> {
    const jobId = await this.redis.hget(this.keys.tenantJobIdempotency(tenantId), key);
    if (jobId === null) return null;
    return (await this.redis.exists(this.keys.job(jobId))) === 1 ? jobId : null;
  }

  /** Records `key` -> `jobId` (whose record exists). Called under the tenant's creation lock, after `find` said null. */
  async remember(tenantId: string, key: string, jobId: string): Promise<void> {
    await this.redis.hset(this.keys.job(jobId), 'idempotency_key', key);
    await this.redis.hset(this.keys.tenantJobIdempotency(tenantId), key, jobId);
    await this.pruneOnePage(tenantId).catch(() => undefined);
  }

  /** Deletes the entries of one page of the tenant's hash whose job no longer exists; returns how many. Call under the tenant's creation lock. */
  async pruneOnePage(tenantId: string): Promise<number> {
    const hash = this.keys.tenantJobIdempotency(tenantId);
    const [next, flat] = await this.redis.hscan(hash, this.pruneCursors.get(tenantId) ?? '0', 'COUNT', PRUNE_PAGE);
    if (next === '0') this.pruneCursors.delete(tenantId);
    else this.pruneCursors.set(tenantId, next);
    const entries: [string, string][] = [];
    for (let index = 0; index + 1 < flat.length; index += 2) entries.push([flat[index] as string, flat[index + 1] as string]);
    if (entries.length === 0) return 0;
    const pipeline = pipelinesBySlot(this.redis);
    for (const [, jobId] of entries) pipeline.on(this.keys.job(jobId)).exists(this.keys.job(jobId));
    const replies = await pipeline.exec();
    const stale = entries.filter((_entry, index) => replies[index]?.[0] === null && replies[index]?.[1] === 0);
    if (stale.length === 0) return 0;
    // Safe without a check-and-delete: creations of one tenant (which replace entries) hold its creation lock, as this caller does.
    return this.redis.hdel(hash, ...stale.map(([key]) => key));
  }
}
