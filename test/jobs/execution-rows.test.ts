import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { chunkJobId } from '../../src/jobs/execution/chunk-queue';
import type { JobRow } from '../../src/jobs/job-record';
import { createTestJob, readJobLines, waitForJob } from '../support/job-builder';
import { startJobHarness, type JobHarness } from '../support/job-runner-harness';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { graph, initializer, model, node, ONNX_FLOAT, ONNX_INT64, tensorValueInfo } from '../support/onnx-builder';
import { TempRepository } from '../support/temp-repository';

/** Y = T[IDX] for a table T [4, 2]: an index outside 0..3 makes onnxruntime fail the whole batch. */
const TABLE = [[0, 1], [10, 11], [20, 21], [30, 31]];
function gatherModel(): Buffer {
  return model(graph({
    nodes: [node('Gather', ['T', 'IDX'], ['Y'])],
    initializers: [initializer('T', ONNX_FLOAT, [4, 2], Buffer.from(new Float32Array(TABLE.flat()).buffer))],
    inputs: [tensorValueInfo('IDX', ONNX_INT64, ['batch', 1])],
    outputs: [tensorValueInfo('Y', ONNX_FLOAT, ['batch', 1, 2])],
  }));
}
const GATHER_CONFIG = `name: "gather_test"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "IDX" data_type: TYPE_INT64 dims: [ 1 ] } ]
output [ { name: "Y" data_type: TYPE_FP32 dims: [ 1, 2 ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
`;

/**
 * gather_test rows: `out-of-range` (row 5) makes onnxruntime fail the batch it is in,
 * `unknown-input` (row 12) names an input the model lacks; the others succeed.
 */
function gatherRow(index: number): JobRow {
  if (index === 5) return { custom_id: 'out-of-range', inputs: { IDX: { datatype: 'INT64', shape: [1], data: [99] } } };
  if (index === 12) return { custom_id: 'unknown-input', inputs: { BOGUS: { datatype: 'INT64', shape: [1], data: [1] } } };
  return { custom_id: `ok-${index}`, inputs: { IDX: { datatype: 'INT64', shape: [1], data: [index % 4] } } };
}

/** identity_fp32 rows (the model does not batch: one call per row), of varying lengths. */
function identityRow(index: number): JobRow {
  return { custom_id: `f-${index}`, inputs: { INPUT0: { datatype: 'FP32', shape: [index + 1], data: Array.from({ length: index + 1 }, (_, at) => index * 10 + at + 0.5) } } };
}

/** A job's lines in a form to compare: results by custom_id, and each error's code and retryable flag. */
async function jobOutcome(store: JobHarness['runner']['store'], jobId: string, chunks: number): Promise<{ results: [string, unknown][]; errors: [string, string, boolean][] }> {
  const { results, errors } = await readJobLines(store, jobId, chunks);
  return {
    results: results.map((line): [string, unknown] => [line.custom_id, line.outputs]).sort(([a], [b]) => a.localeCompare(b)),
    errors: errors.map((line): [string, string, boolean] => [line.custom_id, line.error.code, line.error.retryable]).sort(([a], [b]) => a.localeCompare(b)),
  };
}

/** The pool's message limit in this file: a request over it fails before reaching the instance. */
const MESSAGE_LIMIT = 16 * 1024;

describe('batch job execution: bad rows and poison chunks (real Redis, local-triton process)', function () {
  this.timeout(60_000);
  let repository: TempRepository;
  let triton: LocalTritonProcess;
  let harness: JobHarness;

  before(async () => {
    repository = new TempRepository().copySample('identity_fp32').writeModel('gather_test', GATHER_CONFIG, { 1: { 'model.onnx': gatherModel() } });
    triton = await spawnLocalTriton({ modelRepository: repository.path });
    harness = await startJobHarness([triton.address], { maxMessageBytes: MESSAGE_LIMIT, retry: { attempts: 3, backoffMs: 50 } });
  });
  after(async () => {
    await harness?.stop();
    await triton?.kill();
    repository?.remove();
  });

  it('a bad row fails alone: the rest of its batch and chunk succeed, with the right outputs', async () => {
    const { store, scripts } = harness.runner;
    // 20 rows in chunks of 10: batches of up to 8 rows, so the out-of-range row shares a batch with 4 good ones.
    const jobId = await createTestJob(store, scripts, { tenantId: 't_rows', model: 'gather_test', rows: 20, row: gatherRow, chunkRows: 10 });
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
    assert.equal(record.status, 'completed');
    assert.deepEqual(record.request_counts, { total: 20, completed: 18, failed: 2 });
    const { results, errors } = await readJobLines(store, jobId, record.chunks_total);
    const errorCodes = Object.fromEntries(errors.map((line) => [line.custom_id, line.error.code]));
    assert.deepEqual(errorCodes, { 'out-of-range': 'INTERNAL', 'unknown-input': 'INVALID_ARGUMENT' });
    assert.ok(errors.every((line) => line.error.retryable === false && line.error.message !== ''));
    assert.equal(results.length, 18);
    for (const line of results) {
      const index = Number(line.custom_id.slice(3));
      assert.deepEqual(line.outputs, { Y: [TABLE[index % 4]] }, line.custom_id);
    }
  });

  it('a poison chunk (failing past its attempts) does not fail the job: its rows become retryable errors, the other chunks complete', async () => {
    const { store, scripts } = harness.runner;
    // identity_fp32 does not batch: one request per row. Chunk 1's rows are too large to send (over the message limit).
    const row = (index: number): JobRow => {
      // 4,100 FP32 values: 16,400 bytes of tensor, over the limit.
      const data = index >= 3 && index < 6 ? new Array<number>(4100).fill(0) : [index, index + 1, index + 2, index + 3];
      return { custom_id: `r${index}`, inputs: { INPUT0: { datatype: 'FP32', shape: [data.length], data } } };
    };
    const jobId = await createTestJob(store, scripts, { tenantId: 't_rows', model: 'identity_fp32', rows: 9, row, chunkRows: 3 });
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
    assert.equal(record.status, 'completed');
    assert.deepEqual(record.request_counts, { total: 9, completed: 6, failed: 3 });
    const { results, errors } = await readJobLines(store, jobId, record.chunks_total);
    assert.deepEqual(errors.map((line) => line.custom_id).sort(), ['r3', 'r4', 'r5']);
    for (const line of errors) {
      assert.equal(line.error.code, 'QUOTA_EXCEEDED');
      assert.equal(line.error.retryable, true);
      assert.match(line.error.message, /larger than/);
    }
    assert.deepEqual(results.map((line) => line.custom_id).sort(), ['r0', 'r1', 'r2', 'r6', 'r7', 'r8']);
    const poisonJob = await harness.runner.queue.getJob(chunkJobId(jobId, 1));
    assert.equal(poisonJob?.attemptsMade, 3, 'three attempts: two failed, the last wrote the rows as errors');
    const r7 = results.find((line) => line.custom_id === 'r7');
    assert.deepEqual(r7?.outputs, { OUTPUT0: [7, 8, 9, 10] });
  });

  it('chunks stored as JSONL before the packed format (a job queued across an upgrade) run to the same lines as packed ones', async () => {
    const { store, scripts } = harness.runner;
    // Rows only the legacy form can hold (a create refuses them): each fails alone, the others run.
    const legacyOnly: Record<string, JobRow> = {
      gather_test: { custom_id: 'not-a-number', inputs: { IDX: { datatype: 'INT64', shape: [1], data: ['x'] } } },
      identity_fp32: { custom_id: 'not-numbers', inputs: { INPUT0: { datatype: 'FP32', shape: [2], data: ['a', 'b'] } } },
    };
    for (const [model, row] of [['gather_test', gatherRow], ['identity_fp32', identityRow]] as const) {
      const rows = 20;
      const packedId = await createTestJob(store, scripts, { tenantId: 't_rows', model, rows, row, chunkRows: 10 });
      const legacyRow = (index: number): JobRow => (index === rows ? legacyOnly[model] as JobRow : row(index));
      const legacyId = await createTestJob(store, scripts, { tenantId: 't_rows', model, rows: rows + 1, row: legacyRow, chunkRows: 10, storedAs: 'jsonl' });
      const packed = await waitForJob(store, packedId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
      const legacy = await waitForJob(store, legacyId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
      assert.deepEqual([packed.status, legacy.status], ['completed', 'completed'], model);
      const packedLines = await jobOutcome(store, packedId, packed.chunks_total);
      const legacyLines = await jobOutcome(store, legacyId, legacy.chunks_total);
      assert.ok(packedLines.results.length >= 18, `${model}: the packed job's rows ran`);
      assert.deepEqual(legacyLines.results, packedLines.results, `${model}: the same outputs for every row`);
      const legacyOnlyId = (legacyOnly[model] as JobRow).custom_id;
      assert.deepEqual(legacyLines.errors, [...packedLines.errors, [legacyOnlyId, 'INVALID_ARGUMENT', false]].sort(([a], [b]) => String(a).localeCompare(String(b))), model);
      assert.deepEqual(legacy.request_counts, { total: rows + 1, completed: packed.request_counts.completed, failed: packed.request_counts.failed + 1 }, model);
    }
  });
});
