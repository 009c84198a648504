import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { inferSimple, instanceModels, simpleOnnx } from './controller-fixture';

/**
 * What rollouts rely on (Triton's behaviour in explicit mode): reloading a model with a
 * new version keeps the old version serving until the new one is READY, then unloads it.
 */
describe('local-triton explicit-mode reload', function () {
  this.timeout(20_000);
  const repository = new TempRepository().copySample('simple');
  let instance: LocalTritonFixture;

  before(async () => {
    instance = await startLocalTritonFixture({ modelRepository: repository.path, modelControlMode: 'explicit', loadModels: ['simple'], metricsPort: -1 });
  });

  after(async () => {
    await instance?.stop();
    repository.remove();
  });

  it('serves the old version until the new one is READY, then unloads the old one', async () => {
    assert.deepEqual((await instanceModels(instance.client)).get('simple')?.ready, ['1']);
    repository.writeModel('simple', null, { 2: { 'model.onnx': simpleOnnx() } });
    let running = true;
    let calls = 0;
    const failures: string[] = [];
    const served = new Set<string>();
    const traffic = Array.from({ length: 4 }, async () => {
      while (running) {
        try {
          served.add(await inferSimple(instance.client, 'simple'));
          calls += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    });
    // Sample the index while the reload runs: some version is READY at every moment.
    const gaps: string[] = [];
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const ready = (await instanceModels(instance.client)).get('simple')?.ready ?? [];
        if (ready.length === 0) gaps.push('no READY version');
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 100));
      await instance.client.unary('RepositoryModelLoad', { model_name: 'simple', parameters: {} });
      const states = (await instanceModels(instance.client)).get('simple')?.states;
      assert.equal(states?.['2'], 'READY');
      assert.notEqual(states?.['1'], 'READY', 'the old version is unloaded once the new one is READY');
      await new Promise((resolve) => setTimeout(resolve, 100));
    } finally {
      running = false;
      sampling = false;
      await Promise.all([...traffic, sampler]);
    }
    assert.deepEqual(failures, []);
    assert.deepEqual(gaps, []);
    assert.ok(calls > 10, `only ${calls} calls`);
    assert.deepEqual([...served].sort(), ['1', '2']);
  });
});
