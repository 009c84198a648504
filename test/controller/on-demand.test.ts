import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { performance } from 'node:perf_hooks';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { inferSimple, waitUntil } from './controller-fixture';
import { OnDemandCluster, REST_SUM } from './on-demand-fixture';

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * On-demand loading and eviction end to end: two local-triton instances with room for one
 * model each, three deployed models (replicas 1), real Redis, real controller.
 */
describe('on-demand loading and eviction', function () {
  this.timeout(30_000);

  describe('with eviction after 1 s idle', () => {
    const EVICT_IDLE_MS = 1000;
    let cluster: OnDemandCluster;
    /** Waits past the protection of every model used so far. */
    const idle = (): Promise<void> => sleep(EVICT_IDLE_MS + 200);

    before(async () => {
      cluster = await OnDemandCluster.start({ evictIdleMinMs: EVICT_IDLE_MS, onDemandTimeoutMs: 10_000 });
      await cluster.deployInOrder(['m_a', 'm_b', 'm_c']);
    });

    after(async () => {
      await cluster?.stop();
    });

    it('places two of the three models; the third is unplaced, with the reason in GET /v1/models/{name}', async () => {
      assert.equal((await cluster.holders('m_a')).length, 1);
      assert.equal((await cluster.holders('m_b')).length, 1);
      assert.deepEqual(await cluster.holders('m_c'), []);
      const shown = await cluster.admin.expect(200, 'GET', '/v1/models/m_c');
      assert.deepEqual(shown['state'], []);
      assert.match(shown['unplaced'], /^1 of 1 replicas fit on no instance: .*not when it was used in the last 1000 ms$/);
      assert.equal((await cluster.admin.expect(200, 'GET', '/v1/models/m_a'))['unplaced'], null);
    });

    it('an inference for the unplaced model waits, succeeds, and the least recently used model was unloaded for it', async () => {
      await inferSimple(cluster.triage.client, 'm_a');
      await sleep(20);
      await inferSimple(cluster.triage.client, 'm_b');
      await idle();
      const startedMs = performance.now();
      assert.equal(await inferSimple(cluster.triage.client, 'm_c'), '1');
      assert.ok(performance.now() - startedMs < 10_000);
      assert.equal((await cluster.holders('m_c')).length, 1);
      assert.deepEqual(await cluster.holders('m_a'), [], 'm_a, used least recently, was evicted');
      assert.equal((await cluster.holders('m_b')).length, 1, 'm_b stays');
      assert.deepEqual(cluster.unloads, ['m_a']);
      await waitUntil(async () => {
        const shown = await cluster.admin.expect(200, 'GET', '/v1/models/m_a');
        return shown['state'].length === 0 && typeof shown['unplaced'] === 'string';
      }, 5000, 'the evicted model has no placement record and an unplaced reason');
    });

    it('the evicted model, asked again over REST, comes back (evicting the least recently used of the others)', async () => {
      await idle();
      const answer = await cluster.restInfer('m_a');
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      assert.deepEqual(answer.body['outputs'][0]['data'], REST_SUM);
      assert.equal((await cluster.holders('m_a')).length, 1);
      assert.deepEqual(await cluster.holders('m_b'), [], 'm_b (used before m_c) gave its room');
      assert.equal((await cluster.holders('m_c')).length, 1);
    });

    it('a burst of concurrent calls (gRPC and REST) for a cold model all succeed with one load', async () => {
      await idle();
      const loadsBefore = cluster.loads.length;
      const unloadsBefore = cluster.unloads.length;
      const calls = [
        ...Array.from({ length: 6 }, () => inferSimple(cluster.triage.client, 'm_b')),
        ...Array.from({ length: 6 }, async () => {
          const answer = await cluster.restInfer('m_b');
          if (answer.status !== 200) throw new Error(`REST ${answer.status}: ${JSON.stringify(answer.body)}`);
          return '1';
        }),
      ];
      assert.deepEqual(await Promise.all(calls), Array.from({ length: 12 }, () => '1'));
      assert.deepEqual(cluster.loads.slice(loadsBefore), ['m_b'], 'one load of m_b');
      assert.deepEqual(cluster.unloads.slice(unloadsBefore), ['m_c'], 'one eviction, of the least recently used');
    });

    it('an unregistered model keeps NOT_FOUND, and an undeployed one UNAVAILABLE, at once', async () => {
      const startedMs = performance.now();
      const unknown = await grpcError(inferSimple(cluster.triage.client, 'no_such_model'));
      assert.equal(unknown.code, status.NOT_FOUND);
      assert.match(unknown.details, /Request for unknown model: 'no_such_model' is not found/);
      assert.equal((await cluster.restInfer('no_such_model')).status, 404);
      await cluster.admin.expect(202, 'POST', '/v1/models/m_c/undeploy');
      const undeployed = await grpcError(inferSimple(cluster.triage.client, 'm_c'));
      assert.equal(undeployed.code, status.UNAVAILABLE);
      assert.match(undeployed.details, /no instance can serve model 'm_c' right now/);
      assert.ok(performance.now() - startedMs < 3000, 'no on-demand wait');
    });
  });

  describe('with every loaded model recently used', () => {
    let cluster: OnDemandCluster;

    before(async () => {
      cluster = await OnDemandCluster.start({ evictIdleMinMs: 60_000, onDemandTimeoutMs: 1500 });
      await cluster.deployInOrder(['m_a', 'm_b', 'm_c']);
    });

    after(async () => {
      await cluster?.stop();
    });

    it('evicts nothing: the cold call gets UNAVAILABLE after the on-demand timeout (gRPC and REST)', async () => {
      await inferSimple(cluster.triage.client, 'm_a');
      await inferSimple(cluster.triage.client, 'm_b');
      const startedMs = performance.now();
      const [grpc, rest] = await Promise.all([grpcError(inferSimple(cluster.triage.client, 'm_c')), cluster.restInfer('m_c')]);
      const tookMs = performance.now() - startedMs;
      assert.equal(grpc.code, status.UNAVAILABLE);
      assert.equal(grpc.details, "model 'm_c' is being loaded on demand and was not ready within 1500 ms; retry");
      assert.equal(rest.status, 503);
      assert.equal(rest.body['error'], "model 'm_c' is being loaded on demand and was not ready within 1500 ms; retry");
      assert.ok(tookMs >= 1400 && tookMs < 5000, `waited ${Math.round(tookMs)} ms`);
      assert.equal((await cluster.holders('m_a')).length, 1);
      assert.equal((await cluster.holders('m_b')).length, 1);
      assert.deepEqual(cluster.unloads, []);
      const shown = await cluster.admin.expect(200, 'GET', '/v1/models/m_c');
      assert.match(shown['unplaced'], /not when it was used in the last 60000 ms$/);
    });
  });

  describe('with on-demand loading off (timeout 0)', () => {
    let cluster: OnDemandCluster;

    before(async () => {
      cluster = await OnDemandCluster.start({ evictIdleMinMs: 0, onDemandTimeoutMs: 0 });
      await cluster.deployInOrder(['m_a', 'm_b', 'm_c']);
    });

    after(async () => {
      await cluster?.stop();
    });

    it("keeps today's answer: UNAVAILABLE at once, nothing loaded", async () => {
      const loadsBefore = cluster.loads.length;
      const startedMs = performance.now();
      const grpc = await grpcError(inferSimple(cluster.triage.client, 'm_c'));
      assert.equal(grpc.code, status.UNAVAILABLE);
      assert.match(grpc.details, /no instance can serve model 'm_c' right now: it is not loaded on any healthy instance/);
      assert.equal((await cluster.restInfer('m_c')).status, 503);
      assert.ok(performance.now() - startedMs < 3000, 'no wait');
      await sleep(500);
      assert.deepEqual(cluster.loads.slice(loadsBefore), [], 'nothing was loaded');
      assert.deepEqual(await cluster.holders('m_c'), []);
    });
  });
});
