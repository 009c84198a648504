import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { grpcError, type TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readFloat32, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY, TempRepository } from '../support/temp-repository';

interface IndexEntry { name: string; version: string; state: string; reason: string }
interface InferResponse { model_name: string; model_version: string; outputs: { name: string; shape: string[] }[]; raw_output_contents: Buffer[] }
interface TensorMetadata { name: string; datatype: string; shape: string[] }
interface ConfigResponse { config: { max_batch_size: number; input: { name: string; dims: string[] }[] } }

const SIMPLE_ONNX = readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));
const SAMPLE_MODELS = ['breast_cancer_mlp', 'identity_fp32', 'simple'];

/** simple's configuration as Triton load JSON (proto field names), with the given name and max_batch_size. */
function simpleConfigJson(name: string, maxBatchSize: number, firstInput = 'INPUT0'): string {
  const tensor = (tensorName: string): unknown => ({ name: tensorName, data_type: 'TYPE_INT32', dims: [16] });
  return JSON.stringify({
    name,
    backend: 'onnxruntime',
    max_batch_size: maxBatchSize,
    input: [tensor(firstInput), tensor('INPUT1')],
    output: [tensor('OUTPUT0'), tensor('OUTPUT1')],
  });
}

function simpleRequest(model: string, batch: number): Record<string, unknown> {
  const values = Array.from({ length: batch * 16 }, (_, i) => i);
  return inferRequest(model, [
    { name: 'INPUT0', datatype: 'INT32', shape: [batch, 16], raw: int32Buffer(values) },
    { name: 'INPUT1', datatype: 'INT32', shape: [batch, 16], raw: int32Buffer(values.map(() => 1)) },
  ]);
}

function identityRequest(values: number[]): Record<string, unknown> {
  return inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [values.length], raw: float32Buffer(values) }]);
}

const load = (client: TritonTestClient, model: string, parameters: Record<string, unknown> = {}): Promise<unknown> =>
  client.unary('RepositoryModelLoad', { model_name: model, parameters });
const unload = (client: TritonTestClient, model: string): Promise<unknown> => client.unary('RepositoryModelUnload', { model_name: model });
const modelReady = async (client: TritonTestClient, model: string): Promise<boolean> =>
  (await client.unary<{ ready: boolean }>('ModelReady', { name: model })).ready;
const serverReady = async (client: TritonTestClient): Promise<boolean> => (await client.unary<{ ready: boolean }>('ServerReady', {})).ready;
const repositoryIndex = async (client: TritonTestClient, ready = false): Promise<IndexEntry[]> =>
  (await client.unary<{ models: IndexEntry[] }>('RepositoryIndex', { ready })).models;

/** Retries `check` until it holds or `timeoutMs` passes; for what Triton does asynchronously. */
async function eventually(what: string, check: () => Promise<boolean> | boolean, timeoutMs = 5_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/** The temporary directories local-triton makes for a model's `file:` overrides. */
const overrideDirectories = (model: string): string[] => readdirSync(tmpdir()).filter((entry) => entry.startsWith(`local-triton-${model}-`));

describe('local-triton: explicit model control (RepositoryModelLoad / RepositoryModelUnload)', () => {
  let repository: TempRepository;
  let fixture: LocalTritonFixture;
  before(async () => {
    repository = new TempRepository().copySample('simple', 'identity_fp32', 'breast_cancer_mlp');
    fixture = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', loadModels: [] });
  });
  after(async () => {
    await fixture.stop();
    repository.remove();
  });

  it('starts with nothing loaded: models are not ready, the index lists them without a state, the server is ready', async () => {
    assert.equal(await modelReady(fixture.client, 'identity_fp32'), false);
    assert.equal(await modelReady(fixture.client, 'simple'), false);
    assert.deepEqual(await repositoryIndex(fixture.client), SAMPLE_MODELS.map((name) => ({ name, version: '', state: '', reason: '' })));
    assert.deepEqual(await repositoryIndex(fixture.client, true), []);
    assert.equal(await serverReady(fixture.client), true, 'with strict readiness, no model asked for means ready');
  });

  it('RepositoryModelLoad makes the model ready and it serves inference', async () => {
    await load(fixture.client, 'identity_fp32');
    assert.equal(await modelReady(fixture.client, 'identity_fp32'), true);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', identityRequest([1.5, -2, 3.25]));
    assert.equal(response.model_name, 'identity_fp32');
    assert.equal(response.model_version, '1');
    assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [1.5, -2, 3.25]);
    const entry = (await repositoryIndex(fixture.client)).find((e) => e.name === 'identity_fp32');
    assert.deepEqual(entry, { name: 'identity_fp32', version: '1', state: 'READY', reason: '' });
    assert.equal(await serverReady(fixture.client), true);
  });

  it('RepositoryModelUnload makes the model unready at once; inference then finds no available version', async () => {
    await load(fixture.client, 'identity_fp32');
    await unload(fixture.client, 'identity_fp32');
    assert.equal(await modelReady(fixture.client, 'identity_fp32'), false, 'ModelReady is false as soon as Unload returns');
    const error = await grpcError(fixture.client.unary('ModelInfer', identityRequest([1])));
    // Triton's ModelLifeCycle::GetModel answers NOT_FOUND when no version is READY.
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.details, "Request for unknown model: 'identity_fp32' has no available versions");
    // Addressed by version, a version that is not loaded is UNAVAILABLE.
    const byVersion = await grpcError(fixture.client.unary('ModelInfer', { ...identityRequest([1]), model_version: '1' }));
    assert.equal(byVersion.code, status.UNAVAILABLE);
    assert.equal(byVersion.details, "Request for unknown model: 'identity_fp32' version 1 is not at ready state");
    await eventually('the index shows identity_fp32 unloaded', async () => {
      const entry = (await repositoryIndex(fixture.client)).find((e) => e.name === 'identity_fp32');
      return entry?.state === 'UNAVAILABLE' && entry.reason === 'unloaded';
    });
    assert.equal(await serverReady(fixture.client), true, 'an unloaded model does not make the server unready');
  });

  it('loading a model the repository does not have fails as Triton does and leaves no trace', async () => {
    const error = await grpcError(load(fixture.client, 'no_such_model'));
    assert.equal(error.code, status.INTERNAL);
    assert.match(error.details, /^failed to load 'no_such_model', failed to poll from model repository/);
    assert.equal((await repositoryIndex(fixture.client)).some((e) => e.name === 'no_such_model'), false);
    assert.equal(await modelReady(fixture.client, 'no_such_model'), false);
    assert.equal(await serverReady(fixture.client), true);
  });

  it('a `config` parameter (proto field names) replaces config.pbtxt: max_batch_size 4', async () => {
    await load(fixture.client, 'simple', { config: { string_param: simpleConfigJson('simple', 4) } });
    const { config } = await fixture.client.unary<ConfigResponse>('ModelConfig', { name: 'simple' });
    assert.equal(config.max_batch_size, 4);
    const metadata = await fixture.client.unary<{ inputs: TensorMetadata[] }>('ModelMetadata', { name: 'simple' });
    assert.deepEqual(metadata.inputs.map((t) => t.shape), [['-1', '16'], ['-1', '16']]);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', simpleRequest('simple', 4));
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), Array.from({ length: 64 }, (_, i) => i + 1));
    const error = await grpcError(fixture.client.unary('ModelInfer', simpleRequest('simple', 5)));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "[request id: <id_unknown>] inference request batch-size must be <= 4 for 'simple'");
  });

  it('a `config` parameter with lowerCamelCase keys changes dims, and ModelMetadata follows', async () => {
    const config = {
      name: 'identity_fp32',
      backend: 'identity',
      maxBatchSize: 0,
      input: [{ name: 'INPUT0', dataType: 'TYPE_FP32', dims: [4] }],
      output: [{ name: 'OUTPUT0', dataType: 'TYPE_FP32', dims: [4] }],
    };
    await load(fixture.client, 'identity_fp32', { config: { string_param: JSON.stringify(config) } });
    const metadata = await fixture.client.unary<{ inputs: TensorMetadata[]; outputs: TensorMetadata[] }>('ModelMetadata', { name: 'identity_fp32' });
    assert.deepEqual(metadata.inputs, [{ name: 'INPUT0', datatype: 'FP32', shape: ['4'] }]);
    assert.deepEqual(metadata.outputs, [{ name: 'OUTPUT0', datatype: 'FP32', shape: ['4'] }]);
    const served = await fixture.client.unary<ConfigResponse>('ModelConfig', { name: 'identity_fp32' });
    assert.deepEqual(served.config.input.map((t) => t.dims), [['4']]);
    const error = await grpcError(fixture.client.unary('ModelInfer', identityRequest([1, 2, 3])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /unexpected shape for input 'INPUT0' for model 'identity_fp32'\. Expected \[4\], got \[3\]/);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', identityRequest([1, 2, 3, 4]));
    assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), [1, 2, 3, 4]);
  });

  it('`file:1/model.onnx` plus `config` serves a model that has no directory in the repository, listed in the index', async () => {
    const name = 'uploaded_simple';
    await load(fixture.client, name, {
      'file:1/model.onnx': { bytes_param: SIMPLE_ONNX },
      config: { string_param: simpleConfigJson(name, 8) },
    });
    assert.equal(existsSync(join(repository.path, name)), false, 'nothing is written into the repository');
    assert.equal(await modelReady(fixture.client, name), true);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', simpleRequest(name, 2));
    assert.equal(response.model_name, name);
    assert.equal(response.model_version, '1');
    assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), Array.from({ length: 32 }, (_, i) => i - 1));
    const entry = (await repositoryIndex(fixture.client, true)).find((e) => e.name === name);
    assert.deepEqual(entry, { name, version: '1', state: 'READY', reason: '' });

    assert.equal(overrideDirectories(name).length, 1, 'the uploaded files live in one temporary model directory');
    await unload(fixture.client, name);
    await eventually('the temporary model directory is removed', () => overrideDirectories(name).length === 0);
  });

  it('`file:` without `config` is INVALID_ARGUMENT and leaves no trace', async () => {
    const name = 'upload_without_config';
    const error = await grpcError(load(fixture.client, name, { 'file:1/model.onnx': { bytes_param: SIMPLE_ONNX } }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /'config'/);
    assert.equal((await repositoryIndex(fixture.client)).some((e) => e.name === name), false);
    assert.deepEqual(overrideDirectories(name), []);
    assert.equal(await serverReady(fixture.client), true, 'a refused request is not a model that failed to load');
  });

  it('a `file:` path that leaves the model directory is INVALID_ARGUMENT and writes nothing anywhere', async () => {
    const name = 'escaping_upload';
    const marker = `triage-escape-${process.pid}-${Date.now()}`;
    for (const path of [`../${marker}`, `1/../../${marker}`, `../../${marker}`]) {
      const error = await grpcError(load(fixture.client, name, {
        [`file:${path}`]: { bytes_param: Buffer.from('escaped') },
        'file:1/model.onnx': { bytes_param: SIMPLE_ONNX },
        config: { string_param: simpleConfigJson(name, 8) },
      }));
      assert.equal(error.code, status.INVALID_ARGUMENT, path);
      assert.match(error.details, new RegExp(`file:${path.replace(/\./g, '\\.')}`), path);
    }
    for (const directory of [tmpdir(), dirname(tmpdir()), repository.path, dirname(repository.path)]) {
      assert.equal(existsSync(join(directory, marker)), false, `nothing written in ${directory}`);
    }
    assert.deepEqual(overrideDirectories(name), []);
    assert.equal((await repositoryIndex(fixture.client)).some((e) => e.name === name), false);
    assert.equal(await serverReady(fixture.client), true);
  });

  it('an unknown load parameter is INVALID_ARGUMENT', async () => {
    const error = await grpcError(load(fixture.client, 'simple', { unload_dependents: { bool_param: true } }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "unrecognized load parameter 'unload_dependents'");
  });

  it('a non-empty repository_name is UNIMPLEMENTED on load, unload and index', async () => {
    for (const [method, request] of [
      ['RepositoryModelLoad', { repository_name: 'models', model_name: 'simple' }],
      ['RepositoryModelUnload', { repository_name: 'models', model_name: 'simple' }],
      ['RepositoryIndex', { repository_name: 'models' }],
    ] as const) {
      const error = await grpcError(fixture.client.unary(method, request));
      assert.equal(error.code, status.UNIMPLEMENTED, method);
      assert.equal(error.details, "'repository_name' specification is not supported", method);
    }
  });

  it('a reload whose new configuration fails keeps the old version serving', async () => {
    await load(fixture.client, 'simple', { config: { string_param: simpleConfigJson('simple', 8) } });

    // The graph has no input 'WRONG': the new version fails in the backend.
    const backendFailure = await grpcError(load(fixture.client, 'simple', { config: { string_param: simpleConfigJson('simple', 2, 'WRONG') } }));
    assert.equal(backendFailure.code, status.INVALID_ARGUMENT);
    assert.match(backendFailure.details, /^load failed for model 'simple': version 1 is at UNAVAILABLE state: .*'WRONG'/s);
    // The JSON is not a ModelConfig: the load fails before any backend runs.
    const configFailure = await grpcError(load(fixture.client, 'simple', { config: { string_param: '{"max_batch_size": "many"}' } }));
    assert.equal(configFailure.code, status.INVALID_ARGUMENT);

    assert.equal(await modelReady(fixture.client, 'simple'), true);
    const { config } = await fixture.client.unary<ConfigResponse>('ModelConfig', { name: 'simple' });
    assert.equal(config.max_batch_size, 8);
    assert.deepEqual(config.input.map((t) => t.name), ['INPUT0', 'INPUT1']);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', simpleRequest('simple', 8));
    assert.deepEqual(response.outputs.map((o) => o.shape), [['8', '16'], ['8', '16']]);
    const entry = (await repositoryIndex(fixture.client)).find((e) => e.name === 'simple');
    assert.deepEqual(entry, { name: 'simple', version: '1', state: 'READY', reason: '' });
    assert.equal(await serverReady(fixture.client), true);
  });

  it('with strict readiness, a model asked for that fails to load makes the server unready until it loads', async () => {
    const broken = JSON.stringify({
      name: 'breast_cancer_mlp',
      backend: 'onnxruntime',
      max_batch_size: 8,
      input: [{ name: 'not_features', data_type: 'TYPE_FP32', dims: [30] }],
      output: [{ name: 'probabilities', data_type: 'TYPE_FP32', dims: [2] }],
    });
    const error = await grpcError(load(fixture.client, 'breast_cancer_mlp', { config: { string_param: broken } }));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(await modelReady(fixture.client, 'breast_cancer_mlp'), false);
    const entry = (await repositoryIndex(fixture.client)).find((e) => e.name === 'breast_cancer_mlp');
    assert.equal(entry?.state, 'UNAVAILABLE');
    assert.match(entry?.reason ?? '', /not_features/);
    assert.equal(await serverReady(fixture.client), false);

    await load(fixture.client, 'breast_cancer_mlp');
    assert.equal(await modelReady(fixture.client, 'breast_cancer_mlp'), true);
    assert.equal(await serverReady(fixture.client), true);
  });
});

describe('local-triton: models loaded at startup in explicit mode (--load-model)', () => {
  let repository: TempRepository;
  before(() => { repository = new TempRepository().copySample('simple', 'identity_fp32', 'breast_cancer_mlp'); });
  after(() => { repository.remove(); });

  it("loadModels ['simple'] loads only simple", async () => {
    const fixture = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', loadModels: ['simple'] });
    try {
      assert.equal(await modelReady(fixture.client, 'simple'), true);
      assert.equal(await modelReady(fixture.client, 'identity_fp32'), false);
      assert.equal(await modelReady(fixture.client, 'breast_cancer_mlp'), false);
      assert.deepEqual(await repositoryIndex(fixture.client, true), [{ name: 'simple', version: '1', state: 'READY', reason: '' }]);
      assert.equal(await serverReady(fixture.client), true);
    } finally {
      await fixture.stop();
    }
  });

  it("loadModels ['*'] loads every model of the repository", async () => {
    const fixture = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', loadModels: ['*'] });
    try {
      for (const model of SAMPLE_MODELS) assert.equal(await modelReady(fixture.client, model), true, model);
      assert.deepEqual(await repositoryIndex(fixture.client, true), SAMPLE_MODELS.map((name) => ({ name, version: '1', state: 'READY', reason: '' })));
      assert.equal(await serverReady(fixture.client), true);
      // Explicit mode still allows unloading what '*' loaded.
      await unload(fixture.client, 'identity_fp32');
      assert.equal(await modelReady(fixture.client, 'identity_fp32'), false);
    } finally {
      await fixture.stop();
    }
  });
});

describe("local-triton: model control mode 'none' refuses load and unload", () => {
  let fixture: LocalTritonFixture;
  before(async () => { fixture = await startLocalTritonFixture({ modelRepository: SAMPLE_REPOSITORY, modelControlMode: 'none' }); });
  after(async () => { await fixture.stop(); });

  it('RepositoryModelLoad and RepositoryModelUnload answer UNAVAILABLE and change nothing', async () => {
    const refusals = [
      await grpcError(load(fixture.client, 'simple')),
      await grpcError(load(fixture.client, 'simple', { config: { string_param: simpleConfigJson('simple', 2) } })),
      await grpcError(unload(fixture.client, 'simple')),
    ];
    for (const error of refusals) {
      assert.equal(error.code, status.UNAVAILABLE);
      assert.equal(error.details, 'explicit model load / unload is not allowed if polling is enabled');
    }
    assert.equal(await modelReady(fixture.client, 'simple'), true);
    const { config } = await fixture.client.unary<ConfigResponse>('ModelConfig', { name: 'simple' });
    assert.equal(config.max_batch_size, 8);
  });
});
