import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { grpcError, type TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY, TempRepository } from '../support/temp-repository';

interface IndexEntry { name: string; version: string; state: string; reason: string }
interface InferResponse { model_name: string; model_version: string; raw_output_contents: Buffer[] }

const SIMPLE_CONFIG = readFileSync(join(SAMPLE_REPOSITORY, 'simple', 'config.pbtxt'), 'utf8');
const SIMPLE_ONNX = readFileSync(join(SAMPLE_REPOSITORY, 'simple', '1', 'model.onnx'));

/** simple's config.pbtxt under another name, with extra text appended. */
const simpleConfigAs = (name: string, extra = ''): string => `${SIMPLE_CONFIG.replace('name: "simple"', `name: "${name}"`)}${extra}`;

const A = Array.from({ length: 16 }, (_, i) => i * 2);
const B = Array.from({ length: 16 }, () => 3);

function simpleRequest(model: string, version = ''): Record<string, unknown> {
  return inferRequest(model, [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(A) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(B) },
  ], { model_version: version });
}

const repositoryIndex = async (client: TritonTestClient, ready = false): Promise<IndexEntry[]> =>
  (await client.unary<{ models: IndexEntry[] }>('RepositoryIndex', { ready })).models;

describe('local-triton: RepositoryIndex and readiness with broken models (control mode none)', () => {
  let repository: TempRepository;
  let strict: LocalTritonFixture;
  let lenient: LocalTritonFixture;
  before(async () => {
    repository = new TempRepository()
      .copySample('simple')
      .writeModel('unknown_backend', [
        'name: "unknown_backend"',
        'backend: "tensorrt"',
        'max_batch_size: 1',
        'input [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]',
        'output [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]',
      ].join('\n'), { 1: { 'model.plan': 'not a TensorRT engine' } })
      // Line 3, column 17: an identifier where max_batch_size needs an integer.
      .writeModel('bad_syntax', 'name: "bad_syntax"\nbackend: "onnxruntime"\nmax_batch_size: eight\n', { 1: { 'model.onnx': SIMPLE_ONNX } })
      .writeModel('graph_mismatch', simpleConfigAs('graph_mismatch').replace('name: "INPUT0"', 'name: "WRONG"'), { 1: { 'model.onnx': SIMPLE_ONNX } })
      .writeModel('no_version', simpleConfigAs('no_version'), {});
    [strict, lenient] = await Promise.all([
      startLocalTritonFixture({ modelRepository: repository.path, strictReadiness: true }),
      startLocalTritonFixture({ modelRepository: repository.path, strictReadiness: false }),
    ]);
  });
  after(async () => {
    await Promise.all([strict.stop(), lenient.stop()]);
    repository.remove();
  });

  it('still serves the good model', async () => {
    const response = await strict.client.unary<InferResponse>('ModelInfer', simpleRequest('simple'));
    assert.equal(response.model_name, 'simple');
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), A.map((x) => x + 3));
    assert.equal((await strict.client.unary<{ ready: boolean }>('ModelReady', { name: 'simple' })).ready, true);
  });

  it('lists every model, READY or UNAVAILABLE, with a reason that says what is wrong', async () => {
    const index = await repositoryIndex(strict.client);
    assert.deepEqual(index.map((e) => e.name), ['bad_syntax', 'graph_mismatch', 'no_version', 'simple', 'unknown_backend']);
    for (const entry of index) assert.ok(entry.state === 'READY' || entry.state === 'UNAVAILABLE', `${entry.name} is ${entry.state}`);
    const byName = new Map(index.map((e) => [e.name, e]));

    assert.deepEqual(byName.get('simple'), { name: 'simple', version: '1', state: 'READY', reason: '' });
    const unknownBackend = byName.get('unknown_backend');
    assert.equal(unknownBackend?.state, 'UNAVAILABLE');
    assert.match(unknownBackend?.reason ?? '', /backend 'tensorrt'/);
    const badSyntax = byName.get('bad_syntax');
    assert.equal(badSyntax?.state, 'UNAVAILABLE');
    assert.ok(badSyntax?.reason.includes(join(repository.path, 'bad_syntax', 'config.pbtxt')), badSyntax?.reason);
    assert.match(badSyntax?.reason ?? '', /line 3, column 17/);
    const mismatch = byName.get('graph_mismatch');
    assert.equal(mismatch?.state, 'UNAVAILABLE');
    assert.equal(mismatch?.version, '1', 'the version was tried, and failed in the backend');
    assert.match(mismatch?.reason ?? '', /configuration input 'WRONG' is not an input of the model/);
    const noVersion = byName.get('no_version');
    assert.equal(noVersion?.state, 'UNAVAILABLE');
    assert.equal(noVersion?.reason, "at least one version must be available under the version policy of model 'no_version'");
  });

  it('`ready: true` lists only the READY models', async () => {
    assert.deepEqual(await repositoryIndex(strict.client, true), [{ name: 'simple', version: '1', state: 'READY', reason: '' }]);
  });

  it('broken models are not ready and inference on them finds no available version', async () => {
    for (const model of ['unknown_backend', 'bad_syntax', 'graph_mismatch', 'no_version']) {
      assert.equal((await strict.client.unary<{ ready: boolean }>('ModelReady', { name: model })).ready, false, model);
      const error = await grpcError(strict.client.unary('ModelInfer', simpleRequest(model)));
      assert.equal(error.code, status.NOT_FOUND, model);
      assert.equal(error.details, `Request for unknown model: '${model}' has no available versions`);
    }
  });

  it('ServerReady is false with strict readiness and true without', async () => {
    assert.equal((await strict.client.unary<{ ready: boolean }>('ServerReady', {})).ready, false);
    assert.equal((await lenient.client.unary<{ ready: boolean }>('ServerReady', {})).ready, true);
    // Either way the server is live and the index is the same.
    assert.equal((await strict.client.unary<{ live: boolean }>('ServerLive', {})).live, true);
    assert.deepEqual(await repositoryIndex(lenient.client), await repositoryIndex(strict.client));
  });
});

describe('local-triton: version policies', () => {
  let repository: TempRepository;
  let fixture: LocalTritonFixture;
  before(async () => {
    const threeVersions = { 1: { 'model.onnx': SIMPLE_ONNX }, 2: { 'model.onnx': SIMPLE_ONNX }, 3: { 'model.onnx': SIMPLE_ONNX } };
    repository = new TempRepository()
      .writeModel('latest_two', simpleConfigAs('latest_two', 'version_policy: { latest: { num_versions: 2 } }\n'), threeVersions)
      .writeModel('all_versions', simpleConfigAs('all_versions', 'version_policy: { all: {} }\n'), threeVersions)
      .writeModel('specific_versions', simpleConfigAs('specific_versions', 'version_policy: { specific: { versions: [ 1, 3 ] } }\n'), threeVersions)
      .writeModel('default_policy', simpleConfigAs('default_policy'), threeVersions);
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
  });
  after(async () => {
    await fixture.stop();
    repository.remove();
  });

  const entriesOf = async (model: string): Promise<IndexEntry[]> => (await repositoryIndex(fixture.client)).filter((e) => e.name === model);
  const inferVersion = async (model: string, version: string): Promise<string> =>
    (await fixture.client.unary<InferResponse>('ModelInfer', simpleRequest(model, version))).model_version;
  const versionReady = async (model: string, version: string): Promise<boolean> =>
    (await fixture.client.unary<{ ready: boolean }>('ModelReady', { name: model, version })).ready;

  it('latest { num_versions: 2 } serves versions 2 and 3; version 1 was never loaded, so it is NOT_FOUND', async () => {
    assert.deepEqual(await entriesOf('latest_two'), [
      { name: 'latest_two', version: '2', state: 'READY', reason: '' },
      { name: 'latest_two', version: '3', state: 'READY', reason: '' },
    ]);
    assert.equal(await inferVersion('latest_two', ''), '3');
    assert.equal(await inferVersion('latest_two', '2'), '2');
    const error = await grpcError(fixture.client.unary('ModelInfer', simpleRequest('latest_two', '1')));
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.details, "Request for unknown model: 'latest_two' version 1 is not found");
    assert.equal(await versionReady('latest_two', '1'), false);
    assert.equal(await versionReady('latest_two', '2'), true);
    const metadata = await fixture.client.unary<{ versions: string[] }>('ModelMetadata', { name: 'latest_two' });
    assert.deepEqual(metadata.versions, ['2', '3']);
    const { config } = await fixture.client.unary<{ config: { version_policy: unknown } }>('ModelConfig', { name: 'latest_two' });
    assert.deepEqual(config.version_policy, { latest: { num_versions: 2 }, policy_choice: 'latest' });
  });

  it('all {} serves every version; an empty version addresses the newest', async () => {
    assert.deepEqual((await entriesOf('all_versions')).map((e) => [e.version, e.state]), [['1', 'READY'], ['2', 'READY'], ['3', 'READY']]);
    assert.equal(await inferVersion('all_versions', ''), '3');
    assert.equal(await inferVersion('all_versions', '1'), '1');
    const metadata = await fixture.client.unary<{ versions: string[] }>('ModelMetadata', { name: 'all_versions' });
    assert.deepEqual(metadata.versions, ['1', '2', '3']);
  });

  it('specific { versions: [1, 3] } serves exactly 1 and 3', async () => {
    assert.deepEqual((await entriesOf('specific_versions')).map((e) => [e.version, e.state]), [['1', 'READY'], ['3', 'READY']]);
    assert.equal(await inferVersion('specific_versions', ''), '3');
    assert.equal(await inferVersion('specific_versions', '1'), '1');
    const error = await grpcError(fixture.client.unary('ModelInfer', simpleRequest('specific_versions', '2')));
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.details, "Request for unknown model: 'specific_versions' version 2 is not found");
  });

  it('no version_policy means latest { num_versions: 1 }', async () => {
    assert.deepEqual(await entriesOf('default_policy'), [{ name: 'default_policy', version: '3', state: 'READY', reason: '' }]);
    assert.equal(await inferVersion('default_policy', ''), '3');
    assert.equal(await versionReady('default_policy', '2'), false);
  });

  it('every model of the repository is ready, so the server is', async () => {
    assert.equal((await fixture.client.unary<{ ready: boolean }>('ServerReady', {})).ready, true);
  });
});
