import type { Redis } from 'ioredis';
import { TriageError } from '../errors/triage-error';
import type { RedisKeys } from '../redis/redis-keys';

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
 * hash (`idempotency_key`), so whoever deletes the job can delete the entry.
 */
export class JobIdempotency {
  constructor(private readonly redis: Redis, private readonly keys: RedisKeys) {}

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
  }
}
