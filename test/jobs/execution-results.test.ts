import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import type { ModelInferResponse } from '../../src/protocol/inference-messages';
import { TritonClient } from '../../src/triton/triton-client';
import { breastCancerFeatures, breastCancerRow, createTestJob, readJobLines, waitForJob } from '../support/job-builder';
import { startJobHarness, type JobHarness } from '../support/job-runner-harness';
import { spawnLocalTriton, type LocalTritonProcess } from '../support/local-triton-process';
import { TempRepository } from '../support/temp-repository';

const ROWS = 100_000;
const CHUNK_ROWS = 512;
const DIRECT_BATCH = 256;

/** The model's answers for rows [first, first + count), by direct batched calls to the instance. */
async function directProbabilities(client: TritonClient, first: number, count: number): Promise<Float32Array> {
  const features = new Float32Array(count * 30);
  for (let row = 0; row < count; row++) features.set(breastCancerFeatures(first + row), row * 30);
  const response = await client.unary<ModelInferResponse>('ModelInfer', {
    model_name: 'breast_cancer_mlp',
    inputs: [{ name: 'features', datatype: 'FP32', shape: [count, 30] }],
    raw_input_contents: [Buffer.from(features.buffer)],
  }, { timeoutMs: 30_000 });
  const raw = response.raw_output_contents[0] as Buffer;
  return new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength));
}

describe('batch job execution: results (real Redis, local-triton process)', function () {
  this.timeout(240_000);
  let repository: TempRepository;
  let triton: LocalTritonProcess;
  let harness: JobHarness;
  let direct: TritonClient;

  before(async () => {
    repository = new TempRepository().copySample('breast_cancer_mlp');
    triton = await spawnLocalTriton({ modelRepository: repository.path });
    harness = await startJobHarness([triton.address], { concurrency: 4, globalConcurrency: 4 });
    direct = new TritonClient(triton.address, { maxMessageBytes: 64 * 1024 * 1024 });
  });
  after(async () => {
    direct?.close();
    await harness?.stop();
    await triton?.kill();
    repository?.remove();
  });

  it(`runs a ${ROWS}-row job on breast_cancer_mlp to completion, every row's outputs equal to direct inference`, async () => {
    const { store, scripts } = harness.runner;
    const started = Date.now();
    const jobId = await createTestJob(store, scripts, { tenantId: 't_results', model: 'breast_cancer_mlp', rows: ROWS, row: breastCancerRow, chunkRows: CHUNK_ROWS, priority: 2 });
    const written = Date.now();
    const record = await waitForJob(store, jobId, ['completed', 'failed', 'cancelled', 'expired'], 180_000, 250);
    const ran = Date.now();
    assert.equal(record.status, 'completed');
    assert.deepEqual(record.request_counts, { total: ROWS, completed: ROWS, failed: 0 });
    assert.equal(record.chunks_done, record.chunks_total);
    assert.ok(record.in_progress_at !== null && record.finalizing_at !== null && record.completed_at !== null);

    const { results, errors } = await readJobLines(store, jobId, record.chunks_total);
    assert.equal(errors.length, 0);
    assert.equal(results.length, ROWS);
    const byId = new Map(results.map((line) => [line.custom_id, line.outputs['probabilities'] as number[]]));
    assert.equal(byId.size, ROWS, 'every custom_id exactly once');
    let worst = 0;
    for (let first = 0; first < ROWS; first += DIRECT_BATCH) {
      const count = Math.min(DIRECT_BATCH, ROWS - first);
      const expected = await directProbabilities(direct, first, count);
      for (let row = 0; row < count; row++) {
        const got = byId.get(`row-${first + row}`);
        assert.ok(Array.isArray(got) && got.length === 2, `row-${first + row} has two probabilities`);
        for (let k = 0; k < 2; k++) worst = Math.max(worst, Math.abs((got[k] as number) - (expected[row * 2 + k] as number)));
      }
    }
    assert.ok(worst <= 1e-5, `largest difference from direct inference: ${worst}`);
    // Inputs are deleted once the job ends; results stay for the retention.
    assert.equal(await store.getInput(jobId, 0), null);
    process.stdout.write(`      (${ROWS} rows: written in ${written - started} ms, executed in ${ran - written} ms = ${Math.round(ROWS / ((ran - written) / 1000))} rows/s)\n`);
  });
});
