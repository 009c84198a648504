import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { Redis } from 'ioredis';
import { DispatchScripts } from '../src/jobs/execution/dispatch-scripts';
import type { JobRecord } from '../src/jobs/job-record';
import { JobStore } from '../src/jobs/job-store';
import { packChunk, packRow } from '../src/jobs/packed-rows';
import { PayloadCipher } from '../src/jobs/payload-cipher';
import type { ModelInferResponse } from '../src/protocol/inference-messages';
import { projectRoot } from '../src/protocol/project-paths';
import { RedisKeys } from '../src/redis/redis-keys';
import { randomText } from '../src/tenancy/api-key-format';
import { TritonClient } from '../src/triton/triton-client';
import { processCpuSeconds } from './process-cpu';
import { startTriageProcess } from './triage-process';

const ROWS = Number(process.env['BENCH_JOB_ROWS'] ?? 1_000_000);
/** What the API picks for breast_cancer_mlp (4 x max_batch_size 256, at most 512). */
const CHUNK_ROWS = 512;
const BATCH = 256;
/** triage serve's default --jobs-concurrency: chunks in flight, each one batch call at a time. */
const WORKER_CONCURRENCY = Number(process.env['BENCH_JOBS_CONCURRENCY'] ?? 4);
const PER_ROW_ROWS = Number(process.env['BENCH_PER_ROW_ROWS'] ?? 20_000);
const PER_ROW_CONCURRENCY = 16;
const MODEL = 'breast_cancer_mlp';

/**
 * 30 deterministic measurements of row `index` (the model's `features`), with 4
 * significant digits as in the Wisconsin breast cancer data (17.99, 0.1184, 1001): a row
 * is about 250 bytes of JSON.
 */
function features(index: number): number[] {
  const values: number[] = [];
  let state = (index + 1) * 2654435761 % 4294967296;
  for (let feature = 0; feature < 30; feature++) {
    state = (state * 1664525 + 1013904223) % 4294967296;
    const scale = [20, 20, 130, 1000, 0.1, 0.1, 0.1, 0.05, 0.2, 0.06][feature % 10] as number;
    values.push(Number((scale * (0.5 + state / 4294967296)).toPrecision(4)));
  }
  return values;
}

/** Peak and current resident memory of a process, MiB (/proc/<pid>/status VmHWM, VmRSS). */
function memoryMiB(pid: number): { peak: number; now: number } {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string): number => Number(new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN) / 1024;
  return { peak: field('VmHWM'), now: field('VmRSS') };
}

/** Writes the job the way the API does (encrypted chunks of packed rows, the record, then the backlog); returns its id. */
async function writeJob(store: JobStore): Promise<{ id: string; writeMs: number }> {
  const started = performance.now();
  const id = `job_bench${randomBytes(4).toString('hex')}`;
  const chunks = Math.ceil(ROWS / CHUNK_ROWS);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const rows: Buffer[] = [];
    for (let row = chunk * CHUNK_ROWS; row < Math.min(ROWS, (chunk + 1) * CHUNK_ROWS); row++) {
      const raw = Buffer.from(new Float32Array(features(row)).buffer);
      rows.push(packRow(`row-${row}`, [{ name: 'features', datatype: 'FP32', shape: [30], raw }]));
    }
    await store.putInput(id, chunk, packChunk(rows));
  }
  const now = new Date();
  const record: JobRecord = {
    id, tenant_id: 't_bench', model: MODEL, model_version: '', status: 'queued', priority: 0, completion_window_s: 86_400, metadata: {},
    request_counts: { total: ROWS, completed: 0, failed: 0 }, chunk_rows: CHUNK_ROWS, chunks_total: chunks, chunks_done: 0,
    created_at: now.toISOString(), queued_at: now.toISOString(), in_progress_at: null, finalizing_at: null, completed_at: null, failed_at: null,
    cancelling_at: null, cancelled_at: null, expired_at: null, expires_at: new Date(now.getTime() + 86_400_000).toISOString(), error: null,
  };
  await store.create(record);
  return { id, writeMs: performance.now() - started };
}

/** Rows/s of `rows` rows sent directly to the instance, `concurrency` loops of `batch`-row ModelInfer calls. */
async function directRate(client: TritonClient, rows: number, batch: number, concurrency: number): Promise<number> {
  let next = 0;
  const loop = async (): Promise<void> => {
    for (let first = next; first < rows; first = next) {
      next += batch;
      const count = Math.min(batch, rows - first);
      const input = new Float32Array(count * 30);
      for (let row = 0; row < count; row++) input.set(features(first + row), row * 30);
      const response = await client.unary<ModelInferResponse>('ModelInfer', {
        model_name: MODEL, inputs: [{ name: 'features', datatype: 'FP32', shape: [count, 30] }], raw_input_contents: [Buffer.from(input.buffer)],
      }, { timeoutMs: 60_000 });
      if ((response.raw_output_contents[0]?.byteLength ?? 0) !== count * 8) throw new Error('unexpected output size');
    }
  };
  const started = performance.now();
  await Promise.all(Array.from({ length: concurrency }, loop));
  return rows / ((performance.now() - started) / 1000);
}

/**
 * Issue 6's jobs benchmark: a ROWS-row job on breast_cancer_mlp through triage (one
 * `triage serve` with its embedded Redis and default worker settings, one `triage
 * local-triton` process), timed from the moment its chunks are queued to `completed`;
 * against a direct loop of batched gRPC calls at the same batch size (256 rows) with the
 * same number in flight as the worker, and one sequential loop; and one request per row
 * (PER_ROW_ROWS rows, 16 in flight). Peak RSS of the triage process, which is the worker.
 */
export async function jobsBenchmark(): Promise<void> {
  const workDirectory = mkdtempSync(join(tmpdir(), 'triage-bench-jobs-'));
  const removeWorkDirectory = (): void => rmSync(workDirectory, { recursive: true, force: true });
  const stops: (() => Promise<void>)[] = [];
  const exitOnSignal = (): void => process.exit(1);
  process.once('SIGINT', exitOnSignal).once('SIGTERM', exitOnSignal).once('exit', removeWorkDirectory);
  try {
    const localTriton = await startTriageProcess(['local-triton', '--model-repository', join(projectRoot(), 'model-repository'),
      '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '-1', '--log-level', 'warn'], /gRPC on [^\s]*:(\d+)/);
    stops.push(localTriton.stop);
    const instance = `127.0.0.1:${localTriton.ready[1] ?? ''}`;
    const key = { id: 'bench', key: randomBytes(32) };
    const triage = await startTriageProcess(['serve', '--triton-urls', instance, '--grpc-port', '0', '--http-port', '0',
      '--listen-address', '127.0.0.1', '--log-level', 'warn', '--data-dir', join(workDirectory, 'data'), '--admin-key', `bench-admin-${randomText(40)}`,
      '--jobs-keys', `${key.id}:${key.key.toString('base64')}`, '--jobs-concurrency', String(WORKER_CONCURRENCY)],
    /triage ready: gRPC on [^\s,]*:\d+[\s\S]*redis: embedded redis-server on port (\d+)/);
    stops.push(triage.stop);
    const redis = new Redis(`redis://127.0.0.1:${triage.ready[1] ?? ''}`);
    stops.push(async () => { await redis.quit(); });
    const keys = new RedisKeys('triage:');
    const store = new JobStore(redis, keys, new PayloadCipher([key]));
    const scripts = new DispatchScripts(redis, keys);

    const { id, writeMs } = await writeJob(store);
    const rssBefore = memoryMiB(triage.pid);
    const cpuBefore = processCpuSeconds([triage.pid]);
    const started = performance.now();
    await scripts.enqueueJob('t_bench', id, Math.ceil(ROWS / CHUNK_ROWS), Date.now() + 86_400_000);
    let record = await store.get(id);
    let lowestRss = rssBefore.now;
    while (record !== null && record.status !== 'completed') {
      if (['failed', 'cancelled', 'expired'].includes(record.status)) throw new Error(`the job ended ${record.status}`);
      await new Promise((resolve) => setTimeout(resolve, 250));
      lowestRss = Math.min(lowestRss, memoryMiB(triage.pid).now);
      record = await store.get(id);
    }
    const jobSeconds = (performance.now() - started) / 1000;
    const cpuSeconds = processCpuSeconds([triage.pid]) - cpuBefore;
    const rss = memoryMiB(triage.pid);
    if (record?.request_counts.completed !== ROWS) throw new Error(`expected ${ROWS} completed rows, got ${JSON.stringify(record?.request_counts)}`);
    const triageRate = ROWS / jobSeconds;

    const client = new TritonClient(instance, { maxMessageBytes: 64 * 1024 * 1024 });
    stops.push(async () => client.close());
    const sameInFlight = await directRate(client, ROWS, BATCH, WORKER_CONCURRENCY);
    const sequential = await directRate(client, ROWS, BATCH, 1);
    const perRow = await directRate(client, PER_ROW_ROWS, 1, PER_ROW_CONCURRENCY);

    const row = (what: string, rate: number, note: string): string => `| ${what} | ${Math.round(rate).toLocaleString('en-US')} | ${(triageRate / rate).toFixed(2)}x | ${note} |`;
    process.stdout.write([
      '',
      `### jobs: ${ROWS.toLocaleString('en-US')} rows on ${MODEL} (${cpus().length} cores, ${cpus()[0]?.model ?? 'unknown CPU'})`,
      '',
      '| path | rows/s | triage vs this | notes |',
      '|---|---:|---:|---|',
      `| triage job (queued -> completed) | ${Math.round(triageRate).toLocaleString('en-US')} | 1.00x | ${Math.ceil(ROWS / CHUNK_ROWS)} chunks of ${CHUNK_ROWS} rows, batches of ${BATCH}, --jobs-concurrency ${WORKER_CONCURRENCY}; ${jobSeconds.toFixed(1)} s, ${cpuSeconds.toFixed(1)} CPU-s in the triage process |`,
      row(`direct batched gRPC, ${WORKER_CONCURRENCY} in flight`, sameInFlight, `${BATCH} rows per ModelInfer, ${WORKER_CONCURRENCY} loops (as many calls in flight as the worker)`),
      row('direct batched gRPC, one loop', sequential, `${BATCH} rows per ModelInfer, one call at a time`),
      row('one request per row', perRow, `${PER_ROW_ROWS.toLocaleString('en-US')} rows, ${PER_ROW_CONCURRENCY} in flight`),
      '',
      `Worker (triage serve) RSS: peak ${rssBefore.peak.toFixed(0)} MiB before the job, ${rss.peak.toFixed(0)} MiB at its end (VmHWM); `
        + `now ${rss.now.toFixed(0)} MiB (lowest while running: ${lowestRss.toFixed(0)} MiB). Writing the job's encrypted chunks from the benchmark: ${(writeMs / 1000).toFixed(1)} s.`,
      '',
    ].join('\n'));
  } finally {
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    removeWorkDirectory();
  }
}
