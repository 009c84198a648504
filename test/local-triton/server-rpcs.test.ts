import { status, type ServiceError } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { parseModelConfigText } from '../../src/repository/model-config-schema';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY, TempRepository } from '../support/temp-repository';

interface TensorConfig { name: string; data_type: string; dims: number[] }
interface ParsedConfig {
  name: string;
  platform?: string;
  backend?: string;
  max_batch_size?: number;
  input: TensorConfig[];
  output: TensorConfig[];
  dynamic_batching?: { preferred_batch_size?: number[]; max_queue_delay_microseconds?: number };
  instance_group?: { kind?: string; count?: number }[];
}
interface TensorMetadata { name: string; datatype: string; shape: string[] }
interface ServedConfig {
  name: string;
  platform: string;
  backend: string;
  max_batch_size: number;
  version_policy: unknown;
  input: { name: string; data_type: string; dims: string[] }[];
  output: { name: string; data_type: string; dims: string[] }[];
  instance_group: { name: string; kind: string; count: number }[];
  default_model_filename: string;
  dynamic_batching?: { preferred_batch_size: number[]; max_queue_delay_microseconds: string; preserve_ordering: boolean; priority_levels: string };
}
interface Duration { count: string; ns: string }
interface ModelStats {
  name: string;
  version: string;
  last_inference: string;
  inference_count: string;
  execution_count: string;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', Duration>;
  batch_stats: { batch_size: string; compute_infer: Duration }[];
}

const SAMPLE_MODELS = ['breast_cancer_mlp', 'identity_fp32', 'simple'] as const;
const SIMPLE_ONNX = readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));

function sampleConfig(model: string): ParsedConfig {
  return parseModelConfigText(readFileSync(join(SAMPLE_REPOSITORY, model, 'config.pbtxt'), 'utf8')) as unknown as ParsedConfig;
}

/** The wire datatype of a config data_type (TYPE_STRING is BYTES on the wire). */
const wireDatatype = (dataType: string): string => (dataType === 'TYPE_STRING' ? 'BYTES' : dataType.replace(/^TYPE_/, ''));

/** Tensor metadata as ModelMetadata must report it: the batch dimension (-1) first when the model batches. */
function expectedTensors(tensors: TensorConfig[], maxBatchSize: number): TensorMetadata[] {
  return tensors.map((t) => ({
    name: t.name,
    datatype: wireDatatype(t.data_type),
    shape: [...(maxBatchSize > 0 ? [-1] : []), ...t.dims].map(String),
  }));
}

/** simple's inputs and outputs, for configs written by this file. */
const SIMPLE_TENSORS = [
  'max_batch_size: 8',
  'input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "INPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]',
  'output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 16 ] }, { name: "OUTPUT1" data_type: TYPE_INT32 dims: [ 16 ] } ]',
].join('\n');

const sixteen = Array.from({ length: 16 }, (_, i) => i + 1);
const simpleRequest = inferRequest('simple', [
  { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(sixteen) },
  { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(sixteen) },
]);

describe('local-triton: server, model and health RPCs', () => {
  let repository: TempRepository;
  let fixture: LocalTritonFixture;
  before(async () => {
    repository = new TempRepository()
      .copySample(...SAMPLE_MODELS)
      // Minimal configs: Triton fills in the name, the other half of backend/platform, and the rest.
      .writeModel('backend_only', `backend: "onnxruntime"\n${SIMPLE_TENSORS}\n`, { 1: { 'model.onnx': SIMPLE_ONNX } })
      .writeModel('platform_only', `platform: "onnxruntime_onnx"\n${SIMPLE_TENSORS}\n`, { 1: { 'model.onnx': SIMPLE_ONNX } });
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
  });
  after(async () => {
    await fixture.stop();
    repository.remove();
  });

  it('ServerLive, ServerReady and ServerMetadata', async () => {
    assert.deepEqual(await fixture.client.unary('ServerLive', {}), { live: true });
    assert.deepEqual(await fixture.client.unary('ServerReady', {}), { ready: true });
    const metadata = await fixture.client.unary<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});
    assert.equal(metadata.name, 'triton');
    assert.match(metadata.version, /^\d+\.\d+\.\d+/);
    assert.ok(metadata.extensions.includes('model_repository'), metadata.extensions.join());
    assert.ok(metadata.extensions.includes('statistics'), metadata.extensions.join());
  });

  for (const model of SAMPLE_MODELS) {
    it(`ModelMetadata of ${model} matches its config.pbtxt`, async () => {
      const config = sampleConfig(model);
      assert.ok(config.input.length > 0 && config.output.length > 0, 'the parsed config declares tensors');
      const maxBatchSize = config.max_batch_size ?? 0;
      const metadata = await fixture.client.unary('ModelMetadata', { name: model });
      assert.deepEqual(metadata, {
        name: model,
        versions: ['1'],
        platform: config.platform ?? config.backend,
        inputs: expectedTensors(config.input, maxBatchSize),
        outputs: expectedTensors(config.output, maxBatchSize),
      });
      // An explicit version answers the same.
      assert.deepEqual(await fixture.client.unary('ModelMetadata', { name: model, version: '1' }), metadata);
    });
  }

  for (const model of SAMPLE_MODELS) {
    it(`ModelConfig of ${model} is its config.pbtxt with Triton's defaults filled in`, async () => {
      const parsed = sampleConfig(model);
      const { config } = await fixture.client.unary<{ config: ServedConfig }>('ModelConfig', { name: model });
      assert.equal(config.name, parsed.name);
      assert.equal(config.backend, parsed.backend);
      assert.equal(config.max_batch_size, parsed.max_batch_size ?? 0);
      const served = (list: ServedConfig['input']): unknown => list.map((t) => [t.name, t.data_type, t.dims]);
      const declared = (list: TensorConfig[]): unknown => list.map((t) => [t.name, t.data_type, t.dims.map(String)]);
      assert.deepEqual(served(config.input), declared(parsed.input));
      assert.deepEqual(served(config.output), declared(parsed.output));
      assert.deepEqual(config.version_policy, { latest: { num_versions: 1 }, policy_choice: 'latest' });
      const onnx = parsed.backend === 'onnxruntime';
      // Triton gives onnxruntime two CPU instances when the config says nothing, other backends one.
      const count = parsed.instance_group?.[0]?.count ?? (onnx ? 2 : 1);
      assert.deepEqual(config.instance_group.map((g) => ({ name: g.name, kind: g.kind, count: g.count })), [{ name: `${model}_0`, kind: 'KIND_CPU', count }]);
      if (onnx) {
        assert.equal(config.platform, 'onnxruntime_onnx');
        assert.equal(config.default_model_filename, 'model.onnx');
      }
      if (parsed.dynamic_batching === undefined) {
        assert.equal(config.dynamic_batching, undefined);
      } else {
        assert.deepEqual(config.dynamic_batching?.preferred_batch_size, parsed.dynamic_batching.preferred_batch_size);
        assert.equal(config.dynamic_batching?.max_queue_delay_microseconds, String(parsed.dynamic_batching.max_queue_delay_microseconds));
        assert.equal(config.dynamic_batching?.preserve_ordering, false);
        assert.equal(config.dynamic_batching?.priority_levels, '0');
      }
    });
  }

  it('ModelConfig fills in the name and the platform for `backend: "onnxruntime"` alone, and the backend for `platform` alone', async () => {
    for (const model of ['backend_only', 'platform_only']) {
      const { config } = await fixture.client.unary<{ config: ServedConfig }>('ModelConfig', { name: model });
      assert.equal(config.name, model);
      assert.equal(config.backend, 'onnxruntime', model);
      assert.equal(config.platform, 'onnxruntime_onnx', model);
      assert.equal(config.default_model_filename, 'model.onnx', model);
      assert.deepEqual(config.version_policy, { latest: { num_versions: 1 }, policy_choice: 'latest' });
      assert.deepEqual(config.instance_group.map((g) => ({ name: g.name, kind: g.kind, count: g.count })), [{ name: `${model}_0`, kind: 'KIND_CPU', count: 2 }]);
      const metadata = await fixture.client.unary<{ platform: string }>('ModelMetadata', { name: model });
      assert.equal(metadata.platform, 'onnxruntime_onnx');
    }
  });

  it('ModelStatistics counts inferences, executions and time; an empty name covers every model', async () => {
    const statsOf = async (name: string): Promise<ModelStats[]> =>
      (await fixture.client.unary<{ model_stats: ModelStats[] }>('ModelStatistics', { name })).model_stats;
    const [before] = await statsOf('simple');
    assert.ok(before !== undefined);
    const startedMs = Date.now();
    const n = 5;
    for (let i = 0; i < n; i += 1) {
      const response = await fixture.client.unary<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest);
      assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), sixteen.map((x) => 2 * x));
    }
    const finishedMs = Date.now();
    const [after, ...others] = await statsOf('simple');
    assert.ok(after !== undefined);
    assert.equal(others.length, 0);
    assert.equal(after.name, 'simple');
    assert.equal(after.version, '1');
    const delta = (read: (s: ModelStats) => string): number => Number(read(after)) - Number(read(before));
    assert.equal(delta((s) => s.inference_count), n);
    assert.equal(delta((s) => s.execution_count), n, 'simple has no dynamic batcher: one execution per request');
    assert.equal(delta((s) => s.inference_stats.success.count), n);
    assert.equal(delta((s) => s.inference_stats.fail.count), 0);
    for (const phase of ['queue', 'compute_input', 'compute_infer', 'compute_output'] as const) {
      assert.equal(delta((s) => s.inference_stats[phase].count), n, phase);
    }
    for (const phase of ['success', 'compute_infer'] as const) {
      assert.ok(delta((s) => s.inference_stats[phase].ns) > 0, `${phase} ns grew`);
    }
    assert.ok(BigInt(after.inference_stats.success.ns) >= BigInt(after.inference_stats.compute_infer.ns), 'a request takes at least its compute time');
    const lastInference = Number(after.last_inference);
    assert.ok(lastInference >= startedMs && lastInference <= finishedMs, `last_inference ${lastInference} is between ${startedMs} and ${finishedMs}`);
    const batchOfOne = after.batch_stats.find((b) => b.batch_size === '1');
    assert.ok(Number(batchOfOne?.compute_infer.count) >= n);

    const all = await statsOf('');
    assert.deepEqual(all.map((s) => `${s.name}/${s.version}`).sort(), ['backend_only/1', 'breast_cancer_mlp/1', 'identity_fp32/1', 'platform_only/1', 'simple/1']);
    assert.equal(all.find((s) => s.name === 'simple')?.inference_count, after.inference_count);
    assert.equal(all.find((s) => s.name === 'identity_fp32')?.inference_count, '0');

    const unknown = await grpcError(statsOf('no_such_model'));
    assert.equal(unknown.code, status.NOT_FOUND);
  });

  it('grpc.health.v1.Health Check: SERVING for the server and the inference service, NOT_FOUND for another service', async () => {
    for (const service of ['', 'inference.GRPCInferenceService']) {
      assert.deepEqual(await fixture.client.unary('Check', { service }, undefined, fixture.client.health), { status: 'SERVING' }, service);
    }
    const error = await grpcError(fixture.client.unary('Check', { service: 'no.such.Service' }, undefined, fixture.client.health));
    assert.equal(error.code, status.NOT_FOUND);
  });

  it('shared-memory, trace and log RPCs answer UNIMPLEMENTED or an empty answer, and the server keeps serving', async () => {
    /** The response, or null when the RPC is UNIMPLEMENTED; any other failure fails the test. */
    const answer = async (method: string, request: unknown): Promise<Record<string, unknown> | null> => {
      try {
        return await fixture.client.unary(method, request);
      } catch (error) {
        const serviceError = error as ServiceError;
        assert.equal(serviceError.code, status.UNIMPLEMENTED, `${method}: ${serviceError.details}`);
        return null;
      }
    };

    for (const method of ['SystemSharedMemoryStatus', 'CudaSharedMemoryStatus']) {
      const response = await answer(method, { name: '' });
      if (response !== null) assert.deepEqual(response, { regions: {} }, method);
    }
    const registrations = [
      ['SystemSharedMemoryRegister', { name: 'region', key: '/triage_test_no_such_shm', offset: 0, byte_size: 64 }],
      ['CudaSharedMemoryRegister', { name: 'region', raw_handle: Buffer.alloc(64), device_id: 0, byte_size: 64 }],
    ] as const;
    for (const [method, request] of registrations) {
      // Nothing can be registered: the call is refused, never half-done.
      assert.equal(await answer(method, request), null, `${method} is UNIMPLEMENTED`);
    }
    for (const method of ['SystemSharedMemoryStatus', 'CudaSharedMemoryStatus']) {
      const response = await answer(method, { name: '' });
      if (response !== null) assert.deepEqual(response, { regions: {} }, `${method} after a refused registration`);
    }
    for (const method of ['SystemSharedMemoryUnregister', 'CudaSharedMemoryUnregister']) {
      // Triton answers success for "unregister all" and for a name that is not registered.
      for (const name of ['', 'never_registered']) {
        const response = await answer(method, { name });
        if (response !== null) assert.deepEqual(response, {}, `${method}('${name}')`);
      }
    }

    const trace = await answer('TraceSetting', { settings: {}, model_name: '' });
    if (trace !== null) {
      const settings = trace['settings'] as Record<string, { value: string[] }>;
      assert.deepEqual(settings['trace_level']?.value, ['OFF'], 'tracing is off');
    }
    await answer('TraceSetting', { settings: { trace_level: { value: ['TIMESTAMPS'] } }, model_name: '' });
    const log = await answer('LogSettings', { settings: {} });
    if (log !== null) {
      const settings = log['settings'] as Record<string, Record<string, unknown>>;
      assert.equal(settings['log_info']?.['bool_param'], true);
      assert.equal(typeof settings['log_verbose_level']?.['uint32_param'], 'number');
    }
    await answer('LogSettings', { settings: { log_verbose_level: { uint32_param: 1 } } });

    assert.deepEqual(await fixture.client.unary('ServerLive', {}), { live: true });
    assert.deepEqual(await fixture.client.unary('ServerReady', {}), { ready: true });
    const response = await fixture.client.unary<{ raw_output_contents: Buffer[] }>('ModelInfer', simpleRequest);
    assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), sixteen.map(() => 0));
  });
});
