import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, it } from 'mocha';
import { Redis } from 'ioredis';
import type { JobRecord } from '../../src/jobs/job-record';
import { JobStore } from '../../src/jobs/job-store';
import { PayloadCipher } from '../../src/jobs/payload-cipher';
import { RedisKeys } from '../../src/redis/redis-keys';
import { sharedRedisUrl, uniquePrefix } from '../support/test-redis';

function record(id: string, chunks: number): JobRecord {
  return {
    id, tenant_id: 't_store', model: 'simple', model_version: '', status: 'queued', priority: 2, completion_window_s: 86_400,
    metadata: { purpose: 'test' }, request_counts: { total: chunks * 10, completed: 0, failed: 0 }, chunk_rows: 10, chunks_total: chunks, chunks_done: 0,
    created_at: new Date().toISOString(), queued_at: null, in_progress_at: null, finalizing_at: null, completed_at: null, failed_at: null,
    cancelling_at: null, cancelled_at: null, expired_at: null, expires_at: new Date(Date.now() + 86_400_000).toISOString(), error: null,
  };
}

describe('job store (real Redis)', () => {
  let redis: Redis;
  let store: JobStore;

  before(async () => {
    redis = new Redis(await sharedRedisUrl());
    store = new JobStore(redis, new RedisKeys(uniquePrefix()), new PayloadCipher([{ id: 'k', key: randomBytes(32) }]));
  });
  after(async () => {
    await redis?.quit();
  });

  it('stores and reads back a record, indexed under its tenant', async () => {
    const written = record('job_a', 3);
    await store.create(written);
    assert.deepEqual(await store.get('job_a'), written);
    assert.deepEqual(await store.listIds('t_store', 10), ['job_a']);
    assert.equal(await store.get('job_none'), null);
  });

  it('commits a chunk exactly once: a second commit of it changes nothing', async () => {
    await store.create(record('job_b', 2));
    const first = await store.commitChunk('job_b', 0, Buffer.from('r0\n'), Buffer.from(''), 9, 1);
    assert.deepEqual(first, { committed: true, chunksDone: 1, chunksTotal: 2 });
    const again = await store.commitChunk('job_b', 0, Buffer.from('other\n'), Buffer.from('e\n'), 10, 0);
    assert.deepEqual(again, { committed: false, chunksDone: 1, chunksTotal: 2 });
    assert.deepEqual(await store.getResults('job_b', 0), Buffer.from('r0\n'));
    const job = await store.get('job_b');
    assert.deepEqual(job?.request_counts, { total: 20, completed: 9, failed: 1 });
    assert.equal(await store.isChunkDone('job_b', 0), true);
    assert.equal(await store.isChunkDone('job_b', 1), false);
  });

  it('keeps inputs and results encrypted at rest', async () => {
    await store.putInput('job_b', 1, Buffer.from('{"custom_id":"secret-row"}\n'));
    const raw = await redis.getBuffer(store.keys.jobInput('job_b', 1));
    assert.ok(raw !== null && !raw.includes(Buffer.from('secret-row')));
    assert.deepEqual(await store.getInput('job_b', 1), Buffer.from('{"custom_id":"secret-row"}\n'));
  });

  it('moves status only from the allowed statuses, stamping the time', async () => {
    await store.create(record('job_c', 1));
    const at = new Date('2026-11-29T12:00:00.000Z');
    assert.equal(await store.transition('job_c', ['queued'], 'in_progress', at), 'queued');
    assert.equal((await store.get('job_c'))?.in_progress_at, at.toISOString());
    assert.equal(await store.transition('job_c', ['queued'], 'cancelled', at), 'in_progress');
    assert.equal((await store.get('job_c'))?.status, 'in_progress');
    assert.equal(await store.transition('job_none', ['queued'], 'cancelled', at), '');
  });
});
