import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { projectRoot } from '../../src/protocol/project-paths';
import { grpcError } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, readFloat32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { MATMUL_CHAIN, matmulChainConfig, matmulChainModel } from '../support/slow-onnx-model';
import { SAMPLE_REPOSITORY, TempRepository } from '../support/temp-repository';

interface InferResponse {
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

interface StatisticDuration { count: string; ns: string }
interface ModelStatsMessage {
  inference_count: string;
  execution_count: string;
  inference_stats: { fail: StatisticDuration; queue: StatisticDuration };
  batch_stats: { batch_size: string; compute_infer: StatisticDuration }[];
}

/** What changed in a model's statistics between two snapshots. */
interface StatsDelta {
  readonly inferences: number;
  readonly executions: number;
  readonly failures: number;
  readonly queueNs: bigint;
  /** batch size -> executions of that size, sizes that did not run left out. */
  readonly batches: Record<number, number>;
}

// The slow ONNX model (a chain of MatMuls, written byte by byte) lives in test/support/slow-onnx-model.ts.

function breastCancerConfig(name: string, batching: string): string {
  return `name: "${name}"
backend: "onnxruntime"
max_batch_size: 256
input [ { name: "features" data_type: TYPE_FP32 dims: [ 30 ] } ]
output [ { name: "probabilities" data_type: TYPE_FP32 dims: [ 2 ] } ]
${batching}
instance_group [ { kind: KIND_CPU count: 1 } ]
`;
}


const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('local-triton: dynamic batching', () => {
  const holdout = JSON.parse(readFileSync(join(projectRoot(), 'test/fixtures/breast-cancer-holdout.json'), 'utf8')) as { cases: { features: number[] }[] };
  const rows = holdout.cases.map((c) => c.features);
  let repository: TempRepository | undefined;
  let fixture: LocalTritonFixture;

  before(async () => {
    const mlp = { 1: { 'model.onnx': readFileSync(join(SAMPLE_REPOSITORY, 'breast_cancer_mlp/1/model.onnx')) } };
    const slowModel = { 1: { 'model.onnx': matmulChainModel() } };
    repository = new TempRepository()
      .copySample('breast_cancer_mlp')
      .writeModel('bc_preferred4', breastCancerConfig('bc_preferred4', 'dynamic_batching { preferred_batch_size: [ 4 ] max_queue_delay_microseconds: 2000000 }'), mlp)
      .writeModel('bc_delay300ms', breastCancerConfig('bc_delay300ms', 'dynamic_batching { max_queue_delay_microseconds: 300000 }'), mlp)
      .writeModel('bc_unbatched', breastCancerConfig('bc_unbatched', ''), mlp)
      .writeModel('identity_batching', `name: "identity_batching"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
dynamic_batching { preferred_batch_size: [ 2 ] max_queue_delay_microseconds: 500000 }
`)
      .writeModel('slow_priority', matmulChainConfig('slow_priority', 'dynamic_batching { priority_levels: 2 default_priority_level: 2 }'), slowModel)
      .writeModel('slow_queue', matmulChainConfig('slow_queue',
        'dynamic_batching { default_queue_policy { max_queue_size: 1 default_timeout_microseconds: 60000000 allow_timeout_override: true } }'), slowModel);
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
  });
  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  const snapshot = async (model: string): Promise<ModelStatsMessage> =>
    (await fixture.client.unary<{ model_stats: ModelStatsMessage[] }>('ModelStatistics', { name: model })).model_stats[0] as ModelStatsMessage;
  const delta = (before: ModelStatsMessage, after: ModelStatsMessage): StatsDelta => {
    const countOf = (stats: ModelStatsMessage, size: string): number => Number(stats.batch_stats.find((b) => b.batch_size === size)?.compute_infer.count ?? 0);
    const batches: Record<number, number> = {};
    for (const batch of after.batch_stats) {
      const ran = countOf(after, batch.batch_size) - countOf(before, batch.batch_size);
      if (ran > 0) batches[Number(batch.batch_size)] = ran;
    }
    return {
      inferences: Number(after.inference_count) - Number(before.inference_count),
      executions: Number(after.execution_count) - Number(before.execution_count),
      failures: Number(after.inference_stats.fail.count) - Number(before.inference_stats.fail.count),
      queueNs: BigInt(after.inference_stats.queue.ns) - BigInt(before.inference_stats.queue.ns),
      batches,
    };
  };
  const classify = async (model: string, row: number[]): Promise<number[]> => {
    const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest(model, [{ name: 'features', datatype: 'FP32', shape: [1, 30], raw: float32Buffer(row) }]));
    assert.deepEqual(response.outputs[0]?.shape.map(Number), [1, 2]);
    return readFloat32(response.raw_output_contents[0] as Buffer);
  };
  const oneAtATime = async (model: string, selected: number[][]): Promise<number[][]> => {
    const results: number[][] = [];
    for (const row of selected) results.push(await classify(model, row));
    return results;
  };
  const assertSameProbabilities = (merged: number[][], alone: number[][]): void => {
    assert.equal(merged.length, alone.length);
    merged.forEach((pair, index) => {
      const reference = alone[index] as number[];
      assert.equal(pair.length, 2);
      pair.forEach((p, k) => assert.ok(Math.abs(p - (reference[k] as number)) <= 1e-6, `row ${index}: ${pair.join(',')} vs alone ${reference.join(',')}`));
      assert.ok(Math.abs((pair[0] as number) + (pair[1] as number) - 1) <= 1e-5, `row ${index} sums to ${(pair[0] as number) + (pair[1] as number)}`);
    });
  };

  describe('merging, on breast_cancer_mlp and tuned copies', () => {
    it('the sample model (preferred 64/128/256, 2 ms delay) merges 64 concurrent single-row requests', async () => {
      const selected = rows.slice(0, 64);
      const start = await snapshot('breast_cancer_mlp');
      const merged = await Promise.all(selected.map((row) => classify('breast_cancer_mlp', row)));
      const concurrent = delta(start, await snapshot('breast_cancer_mlp'));
      assert.equal(concurrent.inferences, 64);
      assert.ok(concurrent.executions < 64, `64 requests ran in ${concurrent.executions} executions`);
      assert.ok(Object.keys(concurrent.batches).some((size) => Number(size) > 1), `batch sizes ${JSON.stringify(concurrent.batches)}`);
      assert.equal(Object.entries(concurrent.batches).reduce((sum, [size, count]) => sum + Number(size) * count, 0), 64, 'every row ran exactly once');

      const middle = await snapshot('breast_cancer_mlp');
      const alone = await oneAtATime('breast_cancer_mlp', selected);
      assert.deepEqual(delta(middle, await snapshot('breast_cancer_mlp')).batches, { 1: 64 }, 'sequential requests run alone');
      assertSameProbabilities(merged, alone);
    });

    it('with preferred_batch_size [4] and a 2 s delay, 20 concurrent requests run as exactly 5 batches of 4', async () => {
      const selected = rows.slice(20, 40);
      const start = await snapshot('bc_preferred4');
      const merged = await Promise.all(selected.map((row) => classify('bc_preferred4', row)));
      const change = delta(start, await snapshot('bc_preferred4'));
      assert.equal(change.inferences, 20);
      assert.equal(change.executions, 5);
      assert.deepEqual(change.batches, { 4: 5 });
      assertSameProbabilities(merged, await oneAtATime('breast_cancer_mlp', selected));
    });

    it('4 concurrent requests fill the preferred size and go at once, well before the 2 s delay', async () => {
      const start = await snapshot('bc_preferred4');
      const startedMs = Date.now();
      await Promise.all(rows.slice(40, 44).map((row) => classify('bc_preferred4', row)));
      const elapsedMs = Date.now() - startedMs;
      assert.ok(elapsedMs < 1500, `took ${elapsedMs} ms: the batcher waited for the delay instead of sending the preferred batch`);
      assert.deepEqual(delta(start, await snapshot('bc_preferred4')).batches, { 4: 1 });
    });

    it('a lone request waits max_queue_delay (300 ms) for company when no preferred size is set', async () => {
      const start = await snapshot('bc_delay300ms');
      const startedMs = Date.now();
      const probabilities = await classify('bc_delay300ms', rows[50] as number[]);
      const elapsedMs = Date.now() - startedMs;
      assert.ok(elapsedMs >= 250, `answered after ${elapsedMs} ms, before the queue delay`);
      const change = delta(start, await snapshot('bc_delay300ms'));
      assert.deepEqual(change.batches, { 1: 1 });
      assert.ok(change.queueNs >= 250_000_000n, `queue time ${change.queueNs} ns`);
      assertSameProbabilities([probabilities], await oneAtATime('breast_cancer_mlp', [rows[50] as number[]]));
    });

    it('a model without dynamic_batching executes every request alone', async () => {
      const selected = rows.slice(60, 76);
      const start = await snapshot('bc_unbatched');
      const results = await Promise.all(selected.map((row) => classify('bc_unbatched', row)));
      const change = delta(start, await snapshot('bc_unbatched'));
      assert.equal(change.inferences, 16);
      assert.equal(change.executions, 16);
      assert.deepEqual(change.batches, { 1: 16 });
      assertSameProbabilities(results, await oneAtATime('breast_cancer_mlp', selected));
    });

    it('requests with different non-batch shapes are never merged; equal shapes are', async () => {
      const send = (id: string, values: number[]): Promise<InferResponse> => fixture.client.unary<InferResponse>('ModelInfer',
        inferRequest('identity_batching', [{ name: 'INPUT0', datatype: 'FP32', shape: [1, values.length], raw: float32Buffer(values) }], { id }));
      const check = (response: InferResponse, values: number[]): void => {
        assert.deepEqual(response.outputs[0]?.shape.map(Number), [1, values.length], response.id);
        assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), values, response.id);
      };
      const three = [1, 2, 3];
      const five = [10, 20, 30, 40, 50];
      let start = await snapshot('identity_batching');
      const [a, b] = await Promise.all([send('three', three), send('five', five)]);
      check(a as InferResponse, three);
      check(b as InferResponse, five);
      assert.deepEqual(delta(start, await snapshot('identity_batching')).batches, { 1: 2 }, '[1,3] and [1,5] ran apart');

      start = await snapshot('identity_batching');
      const [c, d] = await Promise.all([send('three-a', three), send('three-b', [4, 5, 6])]);
      check(c as InferResponse, three);
      check(d as InferResponse, [4, 5, 6]);
      assert.deepEqual(delta(start, await snapshot('identity_batching')).batches, { 2: 1 }, 'two [1,3] requests ran together');
    });
  });

  describe('priority levels and queue policy (one instance kept busy by a large request)', () => {
    /** Side of the square matrix that keeps a slow model's instance busy for most of a second on this machine. */
    let blockerSide = 512;

    const matmul = (model: string, side: number, value: number, extra: Record<string, unknown> = {}): Promise<InferResponse> => {
      const data = side === 1 ? float32Buffer([value]) : Buffer.alloc(side * side * 4);
      return fixture.client.unary<InferResponse>('ModelInfer', inferRequest(model, [{ name: 'X', datatype: 'FP32', shape: [1, side, side], raw: data }], extra));
    };
    const pending = (model: string): number => fixture.server.models.resolve(model, '').scheduler.pendingCount;
    /** Waits (without asserting on time) until the server holds `count` pending requests for the model. */
    const waitForPending = async (model: string, count: number, why: string): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (pending(model) !== count) {
        assert.ok(Date.now() < deadline, `expected ${count} pending requests on ${model} (${why}), have ${pending(model)}`);
        await sleep(2);
      }
    };
    /** Sends the large request and waits until it executes; `done` settles when it has been answered. */
    const startBlocker = async (model: string): Promise<{ done: Promise<InferResponse> }> => {
      assert.equal(pending(model), 0);
      const done = matmul(model, blockerSide, 0);
      await waitForPending(model, 1, 'the blocker is executing');
      return { done };
    };

    before(async () => {
      // Calibrate once: time a 512x512 chain, then size the blocker for ~800 ms of compute.
      const startedMs = Date.now();
      await matmul('slow_priority', 512, 0);
      const elapsedMs = Math.max(1, Date.now() - startedMs);
      blockerSide = Math.min(2048, Math.max(512, Math.round((512 * Math.cbrt(800 / elapsedMs)) / 64) * 64));
    });

    it('a queued priority-1 request runs before priority-2 and default-level requests queued earlier', async () => {
      const model = 'slow_priority';
      const start = await snapshot(model);
      const blocker = await startBlocker(model);
      const completed: string[] = [];
      const queued = new Map<string, [number, Promise<InferResponse>]>();
      const enqueue = (id: string, value: number, priority: Record<string, unknown> | null): void => {
        const call = matmul(model, 1, value, { id, ...(priority === null ? {} : { parameters: { priority } }) });
        void call.then(() => completed.push(id), () => completed.push(`${id} failed`));
        queued.set(id, [value, call]);
      };
      enqueue('default', 2, null);
      await waitForPending(model, 2, 'blocker running, one queued');
      enqueue('p2-a', -1, { int64_param: 2 });
      enqueue('p2-b', 0.5, { uint64_param: 2 });
      await waitForPending(model, 4, 'blocker running, three queued');
      enqueue('p1', 1, { uint64_param: 1 });
      await waitForPending(model, 5, 'blocker still running with all four requests queued behind it');

      const blockerResponse = await blocker.done;
      assert.deepEqual(blockerResponse.outputs[0]?.shape.map(Number), [1, blockerSide, blockerSide]);
      for (const [id, [value, call]] of queued) {
        const response = await call;
        assert.equal(response.id, id);
        assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [value ** (MATMUL_CHAIN + 1)], id);
      }
      assert.equal(completed[0], 'p1', `completion order ${completed.join(', ')}`);
      assert.deepEqual(new Set(completed.slice(1)), new Set(['default', 'p2-a', 'p2-b']));
      // The blocker, p1 alone, then the three level-2 requests merged into one batch.
      assert.deepEqual(delta(start, await snapshot(model)).batches, { 1: 2, 3: 1 });
    });

    it('max_queue_size 1: a second queued request is refused with UNAVAILABLE while the instance is busy', async () => {
      const model = 'slow_queue';
      const start = await snapshot(model);
      const blocker = await startBlocker(model);
      const first = matmul(model, 1, 2, { id: 'first' });
      await waitForPending(model, 2, 'blocker running, one queued');
      const refused = await grpcError(matmul(model, 1, 2, { id: 'second' }));
      assert.equal(refused.code, status.UNAVAILABLE);
      assert.match(refused.details, /Exceeds maximum queue size$/);
      await blocker.done;
      const response = await first;
      assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [2 ** (MATMUL_CHAIN + 1)], 'the queued request ran once the instance was free');
      const change = delta(start, await snapshot(model));
      assert.equal(change.failures, 1);
      assert.equal(change.executions, 2);
    });

    it('a request timeout (int64 microseconds, allow_timeout_override) expires in the queue with UNAVAILABLE', async () => {
      const model = 'slow_queue';
      const start = await snapshot(model);
      const blocker = await startBlocker(model);
      const timeout = { timeout: { int64_param: 20_000 } };
      const expired = await grpcError(matmul(model, 1, 2, { id: 'short', parameters: timeout }));
      assert.equal(expired.code, status.UNAVAILABLE);
      assert.match(expired.details, /Request timeout expired$/);
      await blocker.done;
      // The same timeout on an idle instance is not a problem: it bounds the wait, not the work.
      const response = await matmul(model, 1, 2, { id: 'idle', parameters: timeout });
      assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [2 ** (MATMUL_CHAIN + 1)]);
      const change = delta(start, await snapshot(model));
      assert.equal(change.failures, 1);
      assert.deepEqual(change.batches, { 1: 2 }, 'the expired request never executed');
    });
  });
});
