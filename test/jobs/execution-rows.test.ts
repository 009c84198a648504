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
    const row = (index: number): JobRow => {
      if (index === 5) return { custom_id: 'out-of-range', inputs: { IDX: { datatype: 'INT64', shape: [1], data: [99] } } };
      if (index === 12) return { custom_id: 'unknown-input', inputs: { BOGUS: { datatype: 'INT64', shape: [1], data: [1] } } };
      if (index === 17) return { custom_id: 'not-a-number', inputs: { IDX: { datatype: 'INT64', shape: [1], data: ['x'] } } };
      return { custom_id: `ok-${index}`, inputs: { IDX: { datatype: 'INT64', shape: [1], data: [index % 4] } } };
    };
    // 20 rows in chunks of 10: batches of up to 8 rows, so the out-of-range row shares a batch with 4 good ones.
    const jobId = await createTestJob(store, scripts, { tenantId: 't_rows', model: 'gather_test', rows: 20, row, chunkRows: 10 });
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
    assert.equal(record.status, 'completed');
    assert.deepEqual(record.request_counts, { total: 20, completed: 17, failed: 3 });
    const { results, errors } = await readJobLines(store, jobId, record.chunks_total);
    const errorCodes = Object.fromEntries(errors.map((line) => [line.custom_id, line.error.code]));
    assert.deepEqual(errorCodes, { 'out-of-range': 'INTERNAL', 'unknown-input': 'INVALID_ARGUMENT', 'not-a-number': 'INVALID_ARGUMENT' });
    assert.ok(errors.every((line) => line.error.retryable === false && line.error.message !== ''));
    assert.equal(results.length, 17);
    for (const line of results) {
      const index = Number(line.custom_id.slice(3));
      assert.deepEqual(line.outputs, { Y: [TABLE[index % 4]] }, line.custom_id);
    }
  });

  it('a poison chunk (failing past its attempts) does not fail the job: its rows become retryable errors, the other chunks complete', async () => {
    const { store, scripts } = harness.runner;
    // identity_fp32 does not batch: one request per row. Chunk 1's rows are too large to send (over the message limit).
    const row = (index: number): JobRow => {
      // 4,100 FP32 values: 16,400 bytes of tensor, over the limit (kept small in JSON, zeros, so Redis replies stay small).
      const data = index >= 3 && index < 6 ? new Array<number>(4100).fill(0) : [index, index + 1, index + 2, index + 3];
      // r1's values are not numbers: it fails alone when its batch is built, before any call.
      if (index === 1) return { custom_id: 'r1', inputs: { INPUT0: { datatype: 'FP32', shape: [2], data: ['a', 'b'] } } };
      return { custom_id: `r${index}`, inputs: { INPUT0: { datatype: 'FP32', shape: [data.length], data } } };
    };
    const jobId = await createTestJob(store, scripts, { tenantId: 't_rows', model: 'identity_fp32', rows: 9, row, chunkRows: 3 });
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 30_000);
    assert.equal(record.status, 'completed');
    assert.deepEqual(record.request_counts, { total: 9, completed: 5, failed: 4 });
    const { results, errors: allErrors } = await readJobLines(store, jobId, record.chunks_total);
    const badValues = allErrors.find((line) => line.custom_id === 'r1');
    assert.equal(badValues?.error.code, 'INVALID_ARGUMENT');
    assert.equal(badValues?.error.retryable, false);
    const errors = allErrors.filter((line) => line.custom_id !== 'r1');
    assert.deepEqual(errors.map((line) => line.custom_id).sort(), ['r3', 'r4', 'r5']);
    for (const line of errors) {
      assert.equal(line.error.code, 'QUOTA_EXCEEDED');
      assert.equal(line.error.retryable, true);
      assert.match(line.error.message, /larger than/);
    }
    assert.deepEqual(results.map((line) => line.custom_id).sort(), ['r0', 'r2', 'r6', 'r7', 'r8']);
    const poisonJob = await harness.runner.queue.getJob(chunkJobId(jobId, 1));
    assert.equal(poisonJob?.attemptsMade, 3, 'three attempts: two failed, the last wrote the rows as errors');
    const r7 = results.find((line) => line.custom_id === 'r7');
    assert.deepEqual(r7?.outputs, { OUTPUT0: [7, 8, 9, 10] });
  });
});
