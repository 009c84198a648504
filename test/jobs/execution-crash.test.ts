import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { after, afterEach, before, describe, it } from 'mocha';
import { CHUNK_QUEUE } from '../../src/jobs/execution/chunk-queue';
import { DispatchScripts } from '../../src/jobs/execution/dispatch-scripts';
import { JobStore } from '../../src/jobs/job-store';
import { PayloadCipher } from '../../src/jobs/payload-cipher';
import { RedisKeys } from '../../src/redis/redis-keys';
import { startRedisServer, type RedisServerProcess } from '../../src/redis/redis-server-process';
import { breastCancerRow, createTestJob, readJobLines, waitForJob, waitUntil } from '../support/job-builder';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { TempRepository } from '../support/temp-repository';
import { sharedRedisUrl, TEST_JOBS_KEY, uniquePrefix } from '../support/test-redis';
import { spawnTriage, type TriageProcess } from '../support/triage-process';

/** spawnTriage passes --jobs-keys with TEST_JOBS_KEY; the test writes jobs with the same key. */
const WORKER_ARGS = ['--jobs-concurrency', '2', '--jobs-global-concurrency', '4', '--jobs-stall-timeout', '2000'];

/** Every custom_id of rows 0..rows-1 exactly once across the job's results and errors, and the counts agree. */
async function assertEveryRowOnce(store: JobStore, jobId: string, rows: number): Promise<void> {
  const record = await store.get(jobId);
  assert.ok(record !== null);
  const { results, errors } = await readJobLines(store, jobId, record.chunks_total);
  const ids = [...results, ...errors].map((line) => line.custom_id);
  assert.equal(ids.length, rows, `${ids.length} lines for ${rows} rows`);
  assert.equal(new Set(ids).size, rows, 'no custom_id twice');
  assert.equal(record.request_counts.completed, results.length);
  assert.equal(record.request_counts.failed, errors.length);
  assert.equal(errors.length, 0, `no row failed (${errors[0]?.error.message ?? ''})`);
}

describe('batch job execution: crashes (real triage processes, Redis, local-triton)', function () {
  this.timeout(180_000);
  let repository: TempRepository;
  let triton: LocalTritonProcess;
  const processes: TriageProcess[] = [];
  const clients: Redis[] = [];

  before(async () => {
    repository = new TempRepository().copySample('breast_cancer_mlp');
    triton = await spawnLocalTriton({ modelRepository: repository.path });
  });
  afterEach(async () => {
    await Promise.all(processes.splice(0).map((process) => process.stop()));
    for (const client of clients.splice(0)) client.disconnect();
  });
  after(async () => {
    await triton?.kill();
    repository?.remove();
  });

  const jobSide = (redisUrl: string, prefix: string): { store: JobStore; scripts: DispatchScripts; keys: RedisKeys; redis: Redis } => {
    const redis = new Redis(redisUrl, { maxRetriesPerRequest: null });
    redis.on('error', () => undefined);
    clients.push(redis);
    const keys = new RedisKeys(prefix);
    return { store: new JobStore(redis, keys, new PayloadCipher([TEST_JOBS_KEY])), scripts: new DispatchScripts(redis, keys), keys, redis };
  };
  const worker = async (redisUrl: string, prefix: string): Promise<TriageProcess> => {
    const started = await spawnTriage({ tritonUrls: [triton.address], redisUrl, redisPrefix: prefix, args: WORKER_ARGS });
    processes.push(started);
    return started;
  };

  it('SIGKILL of a worker process, twice, mid-job, then a graceful stop of another: the job completes and every custom_id appears exactly once', async () => {
    const redisUrl = await sharedRedisUrl();
    const prefix = uniquePrefix();
    const { store, scripts, keys } = jobSide(redisUrl, prefix);
    const [first, second] = await Promise.all([worker(redisUrl, prefix), worker(redisUrl, prefix)]);
    const rows = 60_000;
    const jobId = await createTestJob(store, scripts, { tenantId: 't_crash', model: 'breast_cancer_mlp', rows, row: breastCancerRow, chunkRows: 200 });
    const chunks = rows / 200;
    const doneAtLeast = (count: number) => async (): Promise<boolean> => ((await store.get(jobId))?.chunks_done ?? 0) >= count;
    await waitUntil(doneAtLeast(chunks * 0.2), 60_000, '20% of the chunks');
    await first?.kill();
    const third = await worker(redisUrl, prefix);
    await waitUntil(doneAtLeast(chunks * 0.4), 60_000, '40% of the chunks');
    await second?.kill();
    const fourth = await worker(redisUrl, prefix);
    await waitUntil(doneAtLeast(chunks * 0.6), 60_000, '60% of the chunks');
    // SIGTERM: running chunks finish, then every connection closes and the process exits by itself (spawnTriage's stop SIGKILLs after 5 s).
    await third.stop();
    assert.deepEqual([third.child.exitCode, third.child.signalCode], [0, null], 'the worker stopped cleanly on SIGTERM');
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 120_000, 250);
    assert.equal(record.status, 'completed');
    assert.ok(fourth.running());
    await assertEveryRowOnce(store, jobId, rows);
    // The killed workers' chunks were taken over (BullMQ saw them stall) and run again, and still counted once.
    const queue = new Queue(CHUNK_QUEUE, { connection: { url: redisUrl }, prefix: keys.bullPrefix() });
    try {
      const completed = await queue.getJobs(['completed'], 0, -1);
      assert.ok(completed.some((job) => job.stalledCounter > 0), 'at least one chunk was interrupted by a kill and run again');
    } finally {
      await queue.close();
    }
  });

  it('Redis killed and restarted mid-job (append-only file): the job completes and every custom_id appears exactly once', async () => {
    const directory = mkdtempSync(join(tmpdir(), 'triage-jobs-redis-'));
    let redisServer: RedisServerProcess | null = await startRedisServer({ directory, appendOnly: true });
    try {
      const { port, url } = redisServer;
      const prefix = uniquePrefix();
      const { store, scripts } = jobSide(url, prefix);
      await worker(url, prefix);
      const rows = 40_000;
      const jobId = await createTestJob(store, scripts, { tenantId: 't_restart', model: 'breast_cancer_mlp', rows, row: breastCancerRow, chunkRows: 200 });
      await waitUntil(async () => ((await store.get(jobId))?.chunks_done ?? 0) >= 40, 60_000, '40 chunks done');
      await redisServer.kill();
      redisServer = null;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      redisServer = await startRedisServer({ directory, appendOnly: true, port });
      const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 120_000, 250);
      assert.equal(record.status, 'completed');
      await assertEveryRowOnce(store, jobId, rows);
    } finally {
      await Promise.all(processes.splice(0).map((process) => process.stop()));
      for (const client of clients.splice(0)) client.disconnect();
      await redisServer?.stop();
      rmSync(directory, { recursive: true, force: true });
    }
  });
});
