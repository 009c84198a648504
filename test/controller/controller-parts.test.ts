import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import { instanceAction } from '../../src/controller/instance-action';
import { gpuMemoryTotalBytes } from '../../src/triton/triton-figures';
import { InstanceProfiles, parseInstanceLabels, parseInstanceMemory } from '../../src/controller/instance-profiles';
import { InstanceQueues } from '../../src/controller/instance-queues';
import { buildLoadRequest } from '../../src/controller/load-request';
import { loadSignature } from '../../src/controller/load-signature';
import { modelFootprint } from '../../src/controller/model-footprint';
import { RetryBackoff } from '../../src/controller/retry-backoff';
import { loadConfig, servedVersions } from '../../src/controller/served-versions';
import type { DeploymentSpec, ModelRecord } from '../../src/registry/model-record';
import { TempRepository } from '../support/temp-repository';

function record(versions: string[], options: { config?: Record<string, unknown>; deployment?: Partial<DeploymentSpec> | null; footprint?: number | null } = {}): ModelRecord {
  return {
    name: 'm',
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    max_batch_size: 8,
    config: options.config ?? { name: 'm', platform: 'onnxruntime_onnx', max_batch_size: 8 },
    versions: versions.map((version, index) => ({ version, size_bytes: 100 * (index + 1), sha256: `sha-${version}`, files: 1, created_at: '2026-01-01T00:00:00Z' })),
    owner: { tenant_id: 'admin', key_id: 'test' },
    footprint_bytes: options.footprint ?? null,
    deployment: options.deployment === null ? null : { replicas: 1, instance_labels: null, version_policy: null, updated_at: '2026-01-01T00:00:00Z', ...options.deployment },
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    revision: 1,
  };
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

describe('controller parts', () => {
  describe('served versions and the load config', () => {
    it('serves the newest version by default, in numeric order', () => {
      assert.deepEqual(servedVersions(record(['1', '10', '2'])), ['10']);
      assert.deepEqual(servedVersions(record(['3', '1'], { config: { version_policy: { latest: { num_versions: 2 } } } })), ['1', '3']);
    });

    it("follows the config's policy: all, specific (absent versions left out)", () => {
      assert.deepEqual(servedVersions(record(['1', '2', '3'], { config: { version_policy: { all: {} } } })), ['1', '2', '3']);
      assert.deepEqual(servedVersions(record(['1', '2', '3'], { config: { version_policy: { specific: { versions: ['3', '1', '7'] } } } })), ['1', '3']);
    });

    it("lets the deployment's version_policy replace the config's, in the load config too", () => {
      const deployed = record(['1', '2', '3'], { config: { name: 'm', version_policy: { all: {} } }, deployment: { version_policy: { specific: { versions: [2] } } } });
      assert.deepEqual(servedVersions(deployed), ['2']);
      assert.deepEqual(loadConfig(deployed), { name: 'm', version_policy: { specific: { versions: [2] } } });
      const plain = record(['1']);
      assert.equal(loadConfig(plain), plain.config);
    });

    it('estimates the footprint from the versions served unless one is declared', () => {
      assert.equal(modelFootprint(record(['1', '2'])), 200);
      assert.equal(modelFootprint(record(['1', '2'], { config: { version_policy: { all: {} } } })), 300);
      assert.equal(modelFootprint(record(['1', '2'], { footprint: 5000 })), 5000);
    });

    it('signs what a load puts on an instance: config and version contents', () => {
      const base = record(['1', '2']);
      assert.equal(loadSignature(base, ['2']), loadSignature(record(['1', '2']), ['2']));
      assert.notEqual(loadSignature(base, ['2']), loadSignature(base, ['1']));
      assert.notEqual(loadSignature(base, ['2']), loadSignature(record(['1', '2'], { config: { name: 'm', max_batch_size: 4 } }), ['2']));
      assert.notEqual(loadSignature(base, ['2']), loadSignature({ ...base, versions: base.versions.map((v) => ({ ...v, sha256: `${v.sha256}x` })) }, ['2']));
    });
  });

  describe('instance action', () => {
    const base = { servedVersions: ['2'], loadedDigest: 'd2', desiredDigest: 'd2' };
    it('loads where placed and absent, reloads other versions or configs, unloads where not placed', () => {
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set() }), 'load');
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set(['2']) }), 'none');
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set(['1']) }), 'reload');
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set(['1', '2']) }), 'reload');
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set(['2']), loadedDigest: 'd1' }), 'reload');
      assert.equal(instanceAction({ ...base, placed: true, readyVersions: new Set(['2']), loadedDigest: null }), 'reload');
      assert.equal(instanceAction({ ...base, placed: false, readyVersions: new Set(['2']) }), 'unload');
      assert.equal(instanceAction({ ...base, placed: false, readyVersions: new Set() }), 'none');
    });
  });

  describe('retry backoff', () => {
    it('doubles from the minimum to the maximum, per attempt, and forgets on success', () => {
      const backoff = new RetryBackoff({ minMs: 1000, maxMs: 5000 });
      assert.equal(backoff.blocked('m', 'a:1', 'd1', 0), false);
      assert.deepEqual([1, 2, 3, 4].map(() => backoff.failed('m', 'a:1', 'd1', 0)), [1000, 2000, 4000, 5000]);
      assert.equal(backoff.blocked('m', 'a:1', 'd1', 4999), true);
      assert.equal(backoff.blocked('m', 'a:1', 'd1', 5000), false);
      assert.equal(backoff.blocked('m', 'a:1', 'd2', 10), false, 'a new config is tried at once');
      assert.equal(backoff.blocked('m', 'b:1', 'd1', 10), false, 'per instance');
      assert.equal(backoff.failed('m', 'a:1', 'd2', 0), 1000, 'a new attempt starts from the minimum');
      backoff.succeeded('m', 'a:1');
      assert.equal(backoff.blocked('m', 'a:1', 'd2', 10), false);
    });
  });

  describe('instance queues', () => {
    it('runs one operation at a time per instance, instances in parallel, and coalesces a model already waiting', async () => {
      const log: string[] = [];
      let running = new Map<string, number>();
      const queues = new InstanceQueues(async (instance, model) => {
        running = new Map(running).set(instance, (running.get(instance) ?? 0) + 1);
        assert.equal(running.get(instance), 1, `two operations at once on ${instance}`);
        log.push(`start ${instance} ${model}`);
        await sleep(20);
        log.push(`end ${instance} ${model}`);
        running = new Map(running).set(instance, (running.get(instance) ?? 1) - 1);
      });
      queues.enqueue('a:1', 'x');
      queues.enqueue('a:1', 'y');
      queues.enqueue('a:1', 'x'); // already running: ignored
      queues.enqueue('a:1', 'y'); // already waiting: coalesced
      queues.enqueue('b:1', 'x');
      assert.equal(queues.busy('a:1', 'y'), true);
      assert.deepEqual(queues.pending('a:1'), ['x', 'y']);
      await queues.idle();
      assert.deepEqual(log.filter((line) => line.includes('a:1')), ['start a:1 x', 'end a:1 x', 'start a:1 y', 'end a:1 y']);
      assert.ok(log.indexOf('start b:1 x') < log.indexOf('end a:1 x'), 'instances run in parallel');
      assert.equal(queues.busy('a:1', 'y'), false);
    });

    it('drops waiting work on clearWaiting and keeps going after a failed operation', async () => {
      const done: string[] = [];
      const queues = new InstanceQueues(async (_instance, model) => {
        await sleep(5);
        if (model === 'bad') throw new Error('boom');
        done.push(model);
      });
      queues.enqueue('a:1', 'bad');
      queues.enqueue('a:1', 'good');
      await queues.idle();
      assert.deepEqual(done, ['good']);
      queues.enqueue('a:1', 'first');
      queues.enqueue('a:1', 'dropped');
      queues.clearWaiting();
      await queues.idle();
      assert.deepEqual(done, ['good', 'first']);
    });
  });

  describe('instance settings', () => {
    it('reads labels per address', () => {
      const labels = parseInstanceLabels('triton-a:8001 gpu=a100,zone=eu; 10.0.0.2:8001  gpu=t4 ;', '--instance-labels');
      assert.deepEqual([...labels], [['triton-a:8001', { gpu: 'a100', zone: 'eu' }], ['10.0.0.2:8001', { gpu: 't4' }]]);
      assert.equal(parseInstanceLabels('', 'x').size, 0);
      assert.throws(() => parseInstanceLabels('triton-a:8001', '--instance-labels'), /--instance-labels must be entries of ADDRESS key=value,key=value separated by ;/);
      assert.throws(() => parseInstanceLabels('a:1 gpu', 'TRIAGE_INSTANCE_LABELS'), /TRIAGE_INSTANCE_LABELS must be labels of the form key=value/);
      assert.throws(() => parseInstanceLabels('a:1 x=1; a:1 y=2', 'L'), /each address at most once/);
    });

    it('reads memory budgets: one for all, or per address with * for the others', () => {
      assert.deepEqual([...parseInstanceMemory('16GiB', 'M')], [['*', 16 * 1024 ** 3]]);
      assert.deepEqual([...parseInstanceMemory('a:1=512MiB, *=2g', 'M')], [['a:1', 512 * 1024 ** 2], ['*', 2 * 1024 ** 3]]);
      assert.deepEqual([...parseInstanceMemory('[::1]:9001=1024', 'M')], [['[::1]:9001', 1024]]);
      assert.throws(() => parseInstanceMemory('lots', '--instance-memory'), /--instance-memory must be sizes in bytes or with a unit/);
      assert.throws(() => parseInstanceMemory('a:1=1G,=2G', '--instance-memory'), /--instance-memory must be a size, or ADDRESS=SIZE entries/);
    });

    it('answers labels, budget and delivery per instance', () => {
      const profiles = new InstanceProfiles({
        labels: new Map([['a:1', { gpu: 'a100' }]]),
        memory: new Map([['a:1', 100], ['*', 50]]),
        delivery: 'shared',
        pushInstances: ['b:1'],
      });
      assert.deepEqual(profiles.labels('a:1'), { gpu: 'a100' });
      assert.deepEqual(profiles.labels('b:1'), {});
      assert.equal(profiles.memoryBudgetBytes('a:1'), 100);
      assert.equal(profiles.memoryBudgetBytes('c:1'), 50);
      assert.equal(new InstanceProfiles({ labels: new Map(), memory: new Map(), delivery: 'push', pushInstances: [] }).memoryBudgetBytes('a:1'), null);
      assert.equal(profiles.delivery('a:1'), 'shared');
      assert.equal(profiles.delivery('b:1'), 'push');
    });

    it('takes the GPU memory an instance reports when --instance-memory does not name it, before the * budget', () => {
      const reported = new Map<string, number | null>([['a:1', 999], ['g:1', 80 * 1024 ** 3], ['cpu:1', null]]);
      const profiles = new InstanceProfiles({
        labels: new Map(), memory: new Map([['a:1', 100], ['*', 50]]), delivery: 'shared', pushInstances: [],
        reportedMemoryBytes: (address) => reported.get(address) ?? null,
      });
      assert.equal(profiles.memoryBudgetBytes('a:1'), 100, 'a budget set for the address wins');
      assert.equal(profiles.memoryBudgetBytes('g:1'), 80 * 1024 ** 3, 'then what the instance reports');
      assert.equal(profiles.memoryBudgetBytes('cpu:1'), 50, 'then *');
      const two = (used: number, total: number | null) => ({ index: '0', uuid: 'GPU-x', utilization: 0.5, memory_used_bytes: used, memory_total_bytes: total });
      const figures = { scraped_at_ms: 0, cpu_memory_used_bytes: null, cpu_memory_total_bytes: null, models: [] };
      assert.equal(gpuMemoryTotalBytes({ ...figures, gpu: [two(1, 16e9), two(1, 24e9)] }), 40e9);
      assert.equal(gpuMemoryTotalBytes({ ...figures, gpu: [two(1, null)] }), null);
      assert.equal(gpuMemoryTotalBytes({ ...figures, gpu: [] }), null);
      assert.equal(gpuMemoryTotalBytes(null), null);
    });
  });

  describe('load request', () => {
    it('shared: the config only; push: the config and every file of the served versions, config.pbtxt aside', async () => {
      const repository = new TempRepository().writeModel('m', 'name: "m"', {
        1: { 'model.onnx': Buffer.from('one') },
        2: { 'model.onnx': Buffer.from('two'), 'extra.bin': Buffer.from([0, 1, 2]) },
      });
      try {
        writeFileSync(join(repository.path, 'm', 'labels.txt'), 'a\nb\n');
        mkdirSync(join(repository.path, 'm', '2', 'sub'));
        writeFileSync(join(repository.path, 'm', '2', 'sub', 'deep.txt'), 'deep');
        const model = record(['1', '2'], { config: { name: 'm', max_batch_size: 8 }, deployment: { version_policy: { latest: { num_versions: 1 } } } });
        const shared = await buildLoadRequest(model, ['2'], 'shared', repository.path);
        assert.equal(shared.model_name, 'm');
        assert.deepEqual(Object.keys(shared.parameters), ['config']);
        assert.deepEqual(JSON.parse(shared.parameters['config']?.string_param ?? ''), { name: 'm', max_batch_size: 8, version_policy: { latest: { num_versions: 1 } } });
        const push = await buildLoadRequest(model, ['2'], 'push', repository.path);
        assert.deepEqual(Object.keys(push.parameters).sort(), ['config', 'file:2/extra.bin', 'file:2/model.onnx', 'file:2/sub/deep.txt', 'file:labels.txt']);
        assert.deepEqual(push.parameters['file:2/model.onnx']?.bytes_param, Buffer.from('two'));
        assert.deepEqual(push.parameters['file:2/sub/deep.txt']?.bytes_param, Buffer.from('deep'));
      } finally {
        repository.remove();
      }
    });
  });
});
