import assert from 'node:assert/strict';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import type { PlacementRecord } from '../../src/registry/model-record';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { tarGz } from '../support/model-archive';
import { TempRepository } from '../support/temp-repository';
import { controllerOf, startTriageFixture, type TriageFixture } from '../support/triage-fixture';
import { AdminHttp, inferSimple, instanceModels, readyVersions, simpleModelFiles, simpleOnnx, waitUntil } from './controller-fixture';

/**
 * The controller end to end: three local-triton instances in explicit mode, two on one
 * shared repository (A, B: labels storage=shared) and one whose repository folder stays
 * empty (C: storage=none, push delivery), behind one triage.
 */
describe('deployment controller', function () {
  this.timeout(30_000);
  const shared = new TempRepository();
  const empty = new TempRepository();
  const instances: LocalTritonFixture[] = [];
  let triage: TriageFixture;
  let admin: AdminHttp;
  const clients = () => instances.map((instance) => instance.client);
  const placement = async (model: string): Promise<PlacementRecord[]> => triage.triage.registry.store.placement(model);
  const readyPlacements = async (model: string): Promise<string[]> => (await placement(model)).filter((record) => record.state === 'READY').map((record) => record.instance);

  const startInstance = (repository: string, grpcPort = 0): Promise<LocalTritonFixture> =>
    startLocalTritonFixture({ modelRepository: repository, modelControlMode: 'explicit', strictReadiness: false, metricsPort: -1, grpcPort });

  before(async () => {
    // An unmanaged model: in the repository at start (adopted, deployment null) and loaded on A by hand.
    shared.copySample('identity_fp32');
    instances.push(await startInstance(shared.path), await startInstance(shared.path), await startInstance(empty.path));
    const [a, b, c] = instances.map((instance) => instance.address) as [string, string, string];
    await instances[0]?.client.unary('RepositoryModelLoad', { model_name: 'identity_fp32', parameters: {} });
    triage = await startTriageFixture([a, b, c], {
      modelRepository: shared.path,
      controllerLeaseTtlMs: 1000,
      controllerTickMs: 200,
      pushInstances: [c],
      instanceLabels: new Map([[a, { storage: 'shared' }], [b, { storage: 'shared' }], [c, { storage: 'none' }]]),
    });
    admin = new AdminHttp(`http://127.0.0.1:${triage.triage.httpPort}`);
    await waitUntil(() => controllerOf(triage.triage).isLeader(), 3000, 'the only controller leads');
  });

  after(async () => {
    await triage?.stop();
    for (const instance of instances) await instance.stop();
    shared.remove();
    empty.remove();
  });

  it('registers a model, deploys 2 replicas: READY on exactly two instances, inference through the proxy', async () => {
    const created = await admin.register(simpleModelFiles('simple'));
    assert.equal(created['deployment'], null);
    const deployed = await admin.expect(202, 'POST', '/v1/models/simple/deploy', { replicas: 2 });
    assert.equal(deployed['deployment']['replicas'], 2);
    await waitUntil(async () => (await readyPlacements('simple')).length === 2, 10_000, 'two READY placements');
    const versions = await readyVersions(clients(), 'simple');
    assert.deepEqual(versions.filter((each) => each === '1').length, 2, `READY on exactly two instances: ${versions.join(' | ')}`);
    assert.deepEqual(versions.filter((each) => each !== '1'), ['']);
    // The placement records say where, and the plan agrees.
    const holders = instances.filter((_, index) => versions[index] === '1').map((instance) => instance.address).sort();
    assert.deepEqual((await readyPlacements('simple')).sort(), holders);
    assert.deepEqual(controllerOf(triage.triage).status().assignments.get('simple'), holders);
    assert.equal(await inferSimple(triage.client, 'simple'), '1');
    const shown = await admin.expect(200, 'GET', '/v1/models/simple');
    assert.deepEqual(shown['state'].map((state: PlacementRecord) => [state.instance, state.state, state.versions]).sort(), holders.map((address) => [address, 'READY', ['1']]));
  });

  it('rolls a new version out while a client sends continuous traffic: no failed call, then version 2 everywhere', async () => {
    const before = await readyVersions(clients(), 'simple');
    const holders = before.map((versions, index) => (versions === '' ? -1 : index)).filter((index) => index >= 0);
    assert.equal(holders.length, 2);
    let running = true;
    let calls = 0;
    const failures: string[] = [];
    const servedVersions = new Set<string>();
    const client = async (): Promise<void> => {
      while (running) {
        try {
          servedVersions.add(await inferSimple(triage.client, 'simple'));
          calls += 1;
        } catch (error) {
          failures.push((error as Error).message);
        }
      }
    };
    const traffic = [client(), client(), client(), client()];
    // Watch the rollout: the two holders must never be reloading at the same time.
    let bothLoading = false;
    let watching = true;
    const watcher = (async () => {
      while (watching) {
        const states = (await placement('simple')).map((record) => record.state);
        if (states.filter((state) => state === 'LOADING').length > 1) bothLoading = true;
        await new Promise((resolve) => setTimeout(resolve, 5));
      }
    })();
    try {
      await new Promise((resolve) => setTimeout(resolve, 300));
      const added = await admin.expect(201, 'POST', '/v1/models/simple/versions', await tarGz({ '2/model.onnx': simpleOnnx() }));
      assert.deepEqual(added['versions'].map((version: { version: string }) => version.version), ['1', '2']);
      await waitUntil(async () => {
        const now = await readyVersions(clients(), 'simple');
        return holders.every((index) => now[index] === '2');
      }, 15_000, 'both holders serve version 2 only');
      await new Promise((resolve) => setTimeout(resolve, 300));
    } finally {
      running = false;
      watching = false;
      await Promise.all([...traffic, watcher]);
    }
    assert.deepEqual(failures, [], `${failures.length} of ${calls + failures.length} calls failed during the rollout`);
    assert.ok(calls > 20, `only ${calls} calls went through`);
    assert.ok(servedVersions.has('2'), 'calls were answered by version 2 after the switch');
    assert.equal(bothLoading, false, 'the two replicas were reloaded at the same time');
    for (const index of holders) {
      const states = (await instanceModels(clients()[index] as LocalTritonFixture['client'])).get('simple')?.states;
      assert.equal(states?.['2'], 'READY');
      assert.notEqual(states?.['1'], 'READY', 'version 1 was unloaded');
    }
    await waitUntil(async () => (await placement('simple')).every((record) => record.state === 'READY' && record.versions.join() === '2'), 5000, 'the records say version 2');
    assert.equal(await inferSimple(triage.client, 'simple'), '2');
  });

  it('push delivery: an instance whose repository folder is empty gets the files in the load call', async () => {
    await admin.register(simpleModelFiles('simple_push'));
    // Two replicas on instances labelled storage=none: only C is, so one replica, and the shortfall is reported.
    await admin.expect(202, 'POST', '/v1/models/simple_push/deploy', { replicas: 2, instance_labels: { storage: 'none' } });
    const c = instances[2] as LocalTritonFixture;
    await waitUntil(async () => (await readyPlacements('simple_push')).join() === c.address, 10_000, 'simple_push READY on C');
    assert.deepEqual(controllerOf(triage.triage).status().unplaced.filter((each) => each.name === 'simple_push'),
      [{ name: 'simple_push', wanted: 2, placed: 1, reason: '2 replicas wanted but only 1 live instance with the labels storage=none' }]);
    assert.deepEqual(await readyVersions(clients(), 'simple_push'), ['', '', '1']);
    assert.deepEqual(readdirSync(empty.path), [], 'C never saw the model in its repository');
    assert.equal(await inferSimple(triage.client, 'simple_push'), '1');
  });

  it('loads a model on every instance with replicas all, and refills an instance that restarts empty', async () => {
    await admin.register(simpleModelFiles('simple_all'));
    await admin.expect(202, 'POST', '/v1/models/simple_all/deploy', { replicas: 'all' });
    await waitUntil(async () => (await readyVersions(clients(), 'simple_all')).every((each) => each === '1'), 10_000, 'simple_all READY on A, B and C');
    const b = instances[1] as LocalTritonFixture;
    const port = Number(b.address.split(':')[1]);
    await b.stop();
    instances[1] = await startInstance(shared.path, port);
    assert.equal((await instanceModels(instances[1].client)).get('simple_all')?.ready.length ?? 0, 0, 'B restarted empty');
    const tookMs = await waitUntil(async () => (await readyVersions(clients(), 'simple_all')).every((each) => each === '1'), 10_000, 'simple_all back on B');
    assert.ok(tookMs < 10_000);
    await waitUntil(async () => (await readyPlacements('simple_all')).length === 3, 3000, 'three READY records');
  });

  it('reloads the instances when the config changes', async () => {
    const current = await admin.expect(200, 'GET', '/v1/models/simple_all');
    await admin.expect(200, 'PUT', '/v1/models/simple_all/config', { ...current['config'], max_batch_size: 4 });
    await waitUntil(async () => {
      const sizes = await Promise.all(clients().map(async (client) => Number((await client.unary<{ config: { max_batch_size: number } }>('ModelConfig', { name: 'simple_all', version: '' })).config.max_batch_size)));
      return sizes.every((size) => size === 4);
    }, 10_000, 'every instance serves max_batch_size 4');
    assert.equal(await inferSimple(triage.client, 'simple_all'), '1');
  });

  it("records Triton's reason when a load fails, and retries with backoff until it succeeds", async () => {
    await admin.register(simpleModelFiles('simple_bad'));
    const modelFile = join(shared.path, 'simple_bad', '1', 'model.onnx');
    writeFileSync(modelFile, 'this is not an ONNX file');
    await admin.expect(202, 'POST', '/v1/models/simple_bad/deploy', { replicas: 1, instance_labels: { storage: 'shared' } });
    let failed: PlacementRecord | undefined;
    await waitUntil(async () => {
      failed = (await placement('simple_bad')).find((record) => record.state === 'FAILED');
      return failed !== undefined;
    }, 10_000, 'a FAILED placement');
    // Triton's own message (local-triton answers with Triton's text).
    assert.match(failed?.reason ?? '', /load failed for model 'simple_bad': version 1 is at UNAVAILABLE state/);
    assert.deepEqual(failed?.versions, ['1']);
    // The API shows it (a retry may be under way for a moment: LOADING, then FAILED again with the same reason).
    await waitUntil(async () => {
      const shown = await admin.expect(200, 'GET', '/v1/models/simple_bad');
      return shown['state'].length === 1 && shown['state'][0]['state'] === 'FAILED' && shown['state'][0]['reason'] === failed?.reason;
    }, 5000, 'GET /v1/models/simple_bad shows the FAILED state and its reason');
    writeFileSync(modelFile, simpleOnnx());
    await waitUntil(async () => (await readyPlacements('simple_bad')).length === 1, 10_000, 'the retry succeeds once the file is fixed');
    assert.equal(await inferSimple(triage.client, 'simple_bad'), '1');
  });

  it('undeploy unloads everywhere; deleting a deployed model succeeds once the controller unloaded it', async () => {
    await admin.expect(202, 'POST', '/v1/models/simple_push/undeploy');
    await waitUntil(async () => (await placement('simple_push')).length === 0, 10_000, 'no placement of simple_push');
    assert.deepEqual(await readyVersions(clients(), 'simple_push'), ['', '', '']);
    const deleted = await admin.call('DELETE', '/v1/models/simple_all');
    assert.equal(deleted.status, 200, JSON.stringify(deleted.body));
    assert.deepEqual(await readyVersions(clients(), 'simple_all'), ['', '', '']);
    assert.equal((await admin.call('GET', '/v1/models/simple_all')).status, 404);
  });

  it('never touches a model without a deployment', async () => {
    assert.deepEqual(await readyVersions(clients(), 'identity_fp32'), ['1', '', '']);
    assert.deepEqual(await placement('identity_fp32'), []);
    const record = await admin.expect(200, 'GET', '/v1/models/identity_fp32');
    assert.equal(record['deployment'], null);
  });
});
