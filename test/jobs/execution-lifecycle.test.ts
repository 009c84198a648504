import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { after, before, describe, it } from 'mocha';
import { breastCancerRow, createTestJob, readJobLines, waitForJob, waitUntil } from '../support/job-builder';
import { startJobHarness, type JobHarness } from '../support/job-runner-harness';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { TempRepository } from '../support/temp-repository';

const ENDED = ['completed', 'failed', 'cancelled', 'expired'] as const;

describe('batch job execution: cancel, expiry, retention (real Redis, local-triton process)', function () {
  this.timeout(60_000);
  let repository: TempRepository;
  let triton: LocalTritonProcess;
  let redis: Redis;

  before(async () => {
    repository = new TempRepository().copySample('breast_cancer_mlp');
    triton = await spawnLocalTriton({ modelRepository: repository.path });
  });
  after(async () => {
    redis?.disconnect();
    await triton?.kill();
    repository?.remove();
  });

  describe('cancel', () => {
    let harness: JobHarness;
    before(async () => {
      harness = await startJobHarness([triton.address], { concurrency: 1, globalConcurrency: 1 });
    });
    after(async () => harness?.stop());

    it('cancelled mid-way: work stops within one chunk, finished rows are kept, every other row is a `cancelled` error, each custom_id once', async () => {
      const { store, scripts } = harness.runner;
      const rows = 120 * 512;
      const jobId = await createTestJob(store, scripts, { tenantId: 't_cancel', model: 'breast_cancer_mlp', rows, row: breastCancerRow, chunkRows: 512 });
      await waitUntil(async () => ((await store.get(jobId))?.chunks_done ?? 0) >= 4, 30_000, 'four chunks done');
      // What POST /v1/jobs/{id}/cancel does.
      assert.equal(await store.transition(jobId, ['queued', 'in_progress'], 'cancelling', new Date()), 'in_progress');
      const atCancel = await store.get(jobId);
      const record = await waitForJob(store, jobId, ENDED, 20_000);
      assert.equal(record.status, 'cancelled');
      assert.ok(record.cancelling_at !== null && record.cancelled_at !== null);
      const { completed, failed, total } = record.request_counts;
      assert.equal(total, rows);
      assert.equal(completed + failed, rows);
      assert.ok(completed >= (atCancel?.request_counts.completed ?? 0) && completed > 0);
      assert.ok(completed - (atCancel?.request_counts.completed ?? 0) <= 512, `at most the one running chunk finished after the cancel (${completed} vs ${atCancel?.request_counts.completed})`);
      assert.ok(completed < rows / 2, `most rows never ran (${completed} completed)`);

      const lines = await readJobLines(store, jobId, record.chunks_total);
      assert.equal(lines.results.length, completed);
      assert.equal(lines.errors.length, failed);
      assert.ok(lines.errors.every((line) => line.error.code === 'cancelled' && line.error.retryable === false));
      const seen = new Set([...lines.results, ...lines.errors].map((line) => line.custom_id));
      assert.equal(seen.size, rows, 'every custom_id exactly once across results and errors');
      assert.equal(await store.getInput(jobId, 0), null, 'inputs are deleted once the job is cancelled');
      assert.equal(await store.getInput(jobId, record.chunks_total - 1), null);
    });
  });

  describe('expiry and retention', () => {
    let harness: JobHarness;
    before(async () => {
      // No worker in this process (--jobs-concurrency 0): nothing runs, the sweeper still expires and retains.
      harness = await startJobHarness([triton.address], { concurrency: 0, retentionMs: 1500, sweepIntervalMs: 100 });
      redis = new Redis(harness.redisUrl);
    });
    after(async () => harness?.stop());

    it('a job past its completion window expires with every row an `expired` error; after the retention its keys and index entry are gone', async () => {
      const { store, scripts } = harness.runner;
      const { keys } = harness;
      assert.equal(harness.runner.dispatcher, null, 'concurrency 0: no dispatcher, no worker');
      const jobId = await createTestJob(store, scripts, { tenantId: 't_expire', model: 'breast_cancer_mlp', rows: 50, row: breastCancerRow, chunkRows: 20, completionWindowS: 1 });
      assert.equal((await store.get(jobId))?.status, 'queued');
      const record = await waitForJob(store, jobId, ENDED, 10_000);
      assert.equal(record.status, 'expired');
      assert.ok(record.expired_at !== null && Date.parse(record.expired_at) >= Date.parse(record.expires_at));
      assert.deepEqual(record.request_counts, { total: 50, completed: 0, failed: 50 });
      const lines = await readJobLines(store, jobId, record.chunks_total);
      assert.equal(lines.results.length, 0);
      assert.deepEqual(lines.errors.map((line) => line.custom_id).sort(), Array.from({ length: 50 }, (_, index) => `row-${index}`).sort());
      assert.ok(lines.errors.every((line) => line.error.code === 'expired'));
      await waitUntil(async () => (await redis.zscore(keys.jobsOpen(), jobId)) === null, 5000, 'the job to leave the open index');
      const ttl = await redis.pttl(keys.job(jobId));
      assert.ok(ttl > 0 && ttl <= 1500, `the record expires after the retention (pttl ${ttl})`);
      assert.ok(await redis.pttl(keys.jobResults(jobId, 0)) > 0 || await redis.exists(keys.jobResults(jobId, 0)) === 0);
      assert.ok(await redis.pttl(keys.jobErrors(jobId, 2)) > 0);
      assert.equal(await redis.exists(keys.jobInput(jobId, 0)), 0, 'inputs deleted at once');
      assert.ok((await redis.zscore(keys.tenantJobs('t_expire'), jobId)) !== null);
      await waitUntil(async () => (await redis.exists(keys.job(jobId))) === 0 && (await redis.zscore(keys.tenantJobs('t_expire'), jobId)) === null,
        6000, 'the record and its tenant index entry to go after the retention');
      assert.equal(await redis.exists(keys.jobErrors(jobId, 2)), 0);
      assert.equal(await redis.exists(keys.jobDone(jobId)), 0);
    });
  });
});
