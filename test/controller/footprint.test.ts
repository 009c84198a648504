import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { readOnnxGraphIo } from '../../src/repository/onnx/onnx-graph-io';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { controllerOf, startTriageFixture, type TriageFixture } from '../support/triage-fixture';
import { AdminHttp, waitUntil } from './controller-fixture';

const MODEL = 'breast_cancer_mlp';

/**
 * Footprints measured after a load: the instance reports what the model took
 * (ModelStatistics.memory_usage), the controller keeps it, and placement uses it in place
 * of the on-disk estimate. Two instances: A with room for the model by any measure, B with
 * a budget between the model's measured weights and its size on disk.
 */
describe('deployment controller: footprints measured after a load', function () {
  this.timeout(30_000);
  const repository = new TempRepository().copySample(MODEL);
  const instances: LocalTritonFixture[] = [];
  let triage: TriageFixture;
  let admin: AdminHttp;
  let weights = 0;

  before(async () => {
    weights = (await readOnnxGraphIo(join(repository.path, MODEL, '1', 'model.onnx'))).initializerBytes;
    for (let index = 0; index < 2; index += 1) {
      instances.push(await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', strictReadiness: false, metricsPort: -1 }));
    }
    const [a, b] = instances.map((instance) => instance.address) as [string, string];
    triage = await startTriageFixture([a, b], {
      modelRepository: repository.path,
      controllerLeaseTtlMs: 1000,
      controllerTickMs: 200,
      tritonMetricsPort: -1,
      instanceMemory: new Map([[a, 1024 * 1024], [b, weights + 200]]),
    });
    admin = new AdminHttp(`http://127.0.0.1:${triage.triage.httpPort}`);
    await waitUntil(() => controllerOf(triage.triage).isLeader(), 3000, 'the only controller leads');
  });

  after(async () => {
    await triage?.stop();
    for (const instance of instances) await instance.stop();
    repository.remove();
  });

  it('local-triton reports the weights its instances hold as memory_usage, as Triton reports what a load took', async () => {
    const [a] = instances as [LocalTritonFixture];
    await a.client.unary('RepositoryModelLoad', { model_name: MODEL, parameters: {} });
    const statistics = await a.client.unary<{ model_stats: { memory_usage: { type: string; id: string; byte_size: string }[] }[] }>('ModelStatistics', { name: MODEL, version: '' });
    assert.ok(weights > 1000, `the model has weights (${weights} bytes)`);
    assert.deepEqual(statistics.model_stats[0]?.memory_usage, [{ type: 'CPU', id: '0', byte_size: String(weights) }]);
    await a.client.unary('RepositoryModelUnload', { model_name: MODEL, parameters: {} });
  });

  it('keeps the footprint an instance measured, and places by it where the on-disk estimate would not fit', async () => {
    const [a, b] = instances.map((instance) => instance.address) as [string, string];
    const before = await admin.expect(200, 'GET', `/v1/models/${MODEL}`);
    const onDisk = (before['versions'] as { size_bytes: number }[])[0]?.size_bytes ?? 0;
    assert.ok(onDisk > weights + 200, `the estimate (${onDisk} bytes on disk) does not fit B's budget (${weights + 200})`);
    assert.equal(before['measured_footprint_bytes'], null);

    await admin.expect(202, 'POST', `/v1/models/${MODEL}/deploy`, { replicas: 1 });
    await waitUntil(async () => (await admin.expect(200, 'GET', `/v1/models/${MODEL}`))['measured_footprint_bytes'] === weights, 10_000, 'the measured footprint recorded');
    const placed = await admin.expect(200, 'GET', `/v1/models/${MODEL}`);
    assert.deepEqual((placed['state'] as { instance: string; state: string }[]).map((each) => [each.instance, each.state]), [[a, 'READY']], 'the first replica could only go to A');

    // With the measurement, a second replica fits on B; with the estimate it would stay unplaced.
    await admin.expect(202, 'POST', `/v1/models/${MODEL}/deploy`, { replicas: 2 });
    await waitUntil(async () => {
      const shown = await admin.expect(200, 'GET', `/v1/models/${MODEL}`);
      return (shown['state'] as { state: string }[]).filter((each) => each.state === 'READY').length === 2;
    }, 10_000, 'READY on A and B');
    const both = await admin.expect(200, 'GET', `/v1/models/${MODEL}`);
    assert.deepEqual((both['state'] as { instance: string }[]).map((each) => each.instance).sort(), [a, b].sort());
    assert.equal(both['unplaced'], null);
  });
});
