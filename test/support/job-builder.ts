import { randomBytes } from 'node:crypto';
import type { JobErrorLine, JobRecord, JobResultLine, JobRow, JobStatus } from '../../src/jobs/job-record';
import type { JobStore } from '../../src/jobs/job-store';
import { packChunk, packRow } from '../../src/jobs/packed-rows';
import { datatypeInfo } from '../../src/protocol/datatypes';
import { tensorFromJson, type JsonTensorValue } from '../../src/protocol/json-tensor';
import type { DispatchScripts } from '../../src/jobs/execution/dispatch-scripts';

export interface TestJobSpec {
  readonly tenantId: string;
  readonly model: string;
  readonly rows: number;
  /** The row with this index (0-based); called once per row, chunk by chunk (memory stays flat). */
  readonly row: (index: number) => JobRow;
  readonly chunkRows: number;
  readonly priority?: number;
  /** Default one day. */
  readonly completionWindowS?: number;
  /** Default: `job_<random>`. */
  readonly id?: string;
  /**
   * How the chunks are stored: `packed` (default), as POST /v1/jobs stores them; `jsonl`,
   * the legacy form of chunks stored before, which may also hold rows no create accepts.
   */
  readonly storedAs?: 'packed' | 'jsonl';
}

/**
 * Creates a queued job the way the API does, straight through JobStore: every chunk's
 * input, the record, then the chunks queued for fair dispatch. Returns the job id.
 * Packed rows must be valid (their values convert to raw bytes); else this throws.
 */
export async function createTestJob(store: JobStore, scripts: DispatchScripts, spec: TestJobSpec): Promise<string> {
  const id = spec.id ?? `job_${randomBytes(6).toString('hex')}`;
  const chunks = Math.ceil(spec.rows / spec.chunkRows);
  for (let chunk = 0; chunk < chunks; chunk++) {
    const rows: JobRow[] = [];
    for (let index = chunk * spec.chunkRows; index < Math.min(spec.rows, (chunk + 1) * spec.chunkRows); index++) rows.push(spec.row(index));
    await store.putInput(id, chunk, spec.storedAs === 'jsonl' ? legacyJsonlChunk(rows) : packChunk(rows.map(packedRow)));
  }
  const now = new Date();
  const windowS = spec.completionWindowS ?? 86_400;
  const record: JobRecord = {
    id, tenant_id: spec.tenantId, model: spec.model, model_version: '', status: 'queued', priority: spec.priority ?? 0,
    completion_window_s: windowS, metadata: {}, request_counts: { total: spec.rows, completed: 0, failed: 0 },
    chunk_rows: spec.chunkRows, chunks_total: chunks, chunks_done: 0,
    created_at: now.toISOString(), queued_at: now.toISOString(), in_progress_at: null, finalizing_at: null, completed_at: null, failed_at: null,
    cancelling_at: null, cancelled_at: null, expired_at: null, expires_at: new Date(now.getTime() + windowS * 1000).toISOString(), error: null,
  };
  await store.create(record);
  await scripts.enqueueJob(spec.tenantId, id, chunks, Date.parse(record.expires_at));
  return id;
}

/** A row in the packed form, its values converted as POST /v1/jobs converts them. */
export function packedRow(row: JobRow): Buffer {
  return packRow(row.custom_id, Object.entries(row.inputs).map(([name, input]) => {
    const info = datatypeInfo(input.datatype);
    if (info === undefined) throw new RangeError(`test row ${row.custom_id}: unknown datatype ${input.datatype}`);
    return { name, datatype: info.datatype, shape: input.shape, raw: tensorFromJson(name, info.datatype, input.shape, input.data as JsonTensorValue).data };
  }));
}

/** A chunk in the legacy form (JSONL of JobRow), as chunks were stored before the packed format. */
export function legacyJsonlChunk(rows: readonly JobRow[]): Buffer {
  return Buffer.from(`${rows.map((row) => JSON.stringify(row)).join('\n')}\n`);
}

/** Every committed line of a job, chunk by chunk. */
export async function readJobLines(store: JobStore, jobId: string, chunks: number): Promise<{ results: JobResultLine[]; errors: JobErrorLine[] }> {
  const results: JobResultLine[] = [];
  const errors: JobErrorLine[] = [];
  const parse = <T>(buffer: Buffer | null, into: T[]): void => {
    for (const line of (buffer ?? Buffer.alloc(0)).toString('utf8').split('\n')) if (line !== '') into.push(JSON.parse(line) as T);
  };
  for (let chunk = 0; chunk < chunks; chunk++) {
    parse(await store.getResults(jobId, chunk), results);
    parse(await store.getErrors(jobId, chunk), errors);
  }
  return { results, errors };
}

/** Polls the job until its status is one of `statuses`; rejects after timeoutMs naming the last status seen. */
export async function waitForJob(store: JobStore, jobId: string, statuses: readonly JobStatus[], timeoutMs: number, pollMs = 100): Promise<JobRecord> {
  const deadline = Date.now() + timeoutMs;
  let last: JobRecord | null = null;
  while (Date.now() < deadline) {
    last = await store.get(jobId);
    if (last !== null && statuses.includes(last.status)) return last;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`job ${jobId} did not reach ${statuses.join('|')} within ${timeoutMs} ms (last: ${last?.status ?? 'none'}, chunks ${last?.chunks_done ?? 0}/${last?.chunks_total ?? 0})`);
}

/** Polls until `condition` holds; rejects after timeoutMs with `what`. */
export async function waitUntil(condition: () => Promise<boolean>, timeoutMs: number, what: string, pollMs = 50): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, pollMs));
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
}

/**
 * 30 deterministic measurements for breast_cancer_mlp's `features` (FP32, shape [30]),
 * each exactly representable in float32 so JSON and raw tensors carry the same values.
 */
export function breastCancerFeatures(index: number): number[] {
  const values: number[] = [];
  let state = (index + 1) * 2654435761 % 4294967296;
  for (let feature = 0; feature < 30; feature++) {
    state = (state * 1664525 + 1013904223) % 4294967296;
    const scale = [20, 20, 130, 1000, 0.1, 0.1, 0.1, 0.05, 0.2, 0.06][feature % 10] as number;
    values.push(Math.fround(scale * (0.5 + state / 4294967296)));
  }
  return values;
}

export function breastCancerRow(index: number): JobRow {
  return { custom_id: `row-${index}`, inputs: { features: { datatype: 'FP32', shape: [30], data: breastCancerFeatures(index) } } };
}
