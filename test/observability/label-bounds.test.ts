import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { Registry } from 'prom-client';
import type { InferenceOutcome } from '../../src/observability/inference-observer';
import { InferenceMetrics } from '../../src/observability/metrics/inference-metrics';
import { LabelBounds, OTHER_TENANT, UNKNOWN_MODEL } from '../../src/observability/metrics/label-bounds';
import { METRIC } from '../../src/observability/metrics/metric-names';
import { parsePrometheusText } from '../../src/triton/prometheus-text';

const KNOWN_MODELS = new Set(['simple', 'breast_cancer_mlp']);

function outcome(fields: Partial<InferenceOutcome>): InferenceOutcome {
  return {
    protocol: 'grpc', rpc: 'ModelInfer', tenantId: 't_a', keyId: 'k', model: 'simple', version: '', requestId: 'r', code: 'OK', failed: false,
    refusedBy: null, latencyMs: 2, upstreamMs: 1, instance: '127.0.0.1:9001', bytesIn: 10, bytesOut: 20, startedMs: 0, ...fields,
  };
}

/** Every sample of one name in the registry's text: `k=v,k=v` (sorted) -> value. */
async function series(registry: Registry, name: string): Promise<Map<string, number>> {
  const { samples } = parsePrometheusText(await registry.metrics());
  return new Map(samples.filter((sample) => sample.name === name)
    .map((sample) => [[...sample.labels].map(([key, label]) => `${key}=${label}`).sort().join(','), sample.value]));
}

describe('bounded metric labels', () => {
  it('gives the first N tenants a value of their own, every later one "other", and a call without a tenant ""', () => {
    const bounds = new LabelBounds({ tenantLimit: 2, knowsModel: (model) => KNOWN_MODELS.has(model) });
    assert.equal(bounds.tenantLabel, true);
    assert.equal(bounds.tenant('t_a'), 't_a');
    assert.equal(bounds.tenant(null), '');
    assert.equal(bounds.tenant('t_b'), 't_b');
    assert.equal(bounds.tenant('t_c'), OTHER_TENANT);
    assert.equal(bounds.tenant('t_a'), 't_a', 'a tenant keeps its value');
    assert.equal(bounds.tenant('t_d'), OTHER_TENANT);
    assert.equal(new LabelBounds({ tenantLimit: 0, knowsModel: () => true }).tenantLabel, false);
  });

  it('keeps a model\'s name only while an instance knows it', () => {
    const known = new Set(['simple']);
    const bounds = new LabelBounds({ tenantLimit: 0, knowsModel: (model) => known.has(model) });
    assert.equal(bounds.model('simple'), 'simple');
    assert.equal(bounds.model('../../etc/passwd'), UNKNOWN_MODEL);
    assert.equal(bounds.model(''), UNKNOWN_MODEL);
    known.add('new_model');
    assert.equal(bounds.model('new_model'), 'new_model');
  });

  it('a flood of tenants and made-up model names yields a bounded set of series', async () => {
    const registry = new Registry();
    const metrics = new InferenceMetrics(registry, new LabelBounds({ tenantLimit: 3, knowsModel: (model) => KNOWN_MODELS.has(model) }));
    for (let index = 0; index < 500; index++) {
      metrics.observe(outcome({ tenantId: `t_${index % 50}`, model: index % 2 === 0 ? 'simple' : `made_up_${index}` }));
    }
    metrics.observe(outcome({ tenantId: null, keyId: null, model: '', code: 'UNAUTHENTICATED', failed: true, upstreamMs: null, instance: null }));
    metrics.observe(outcome({ tenantId: 't_7', code: 'RESOURCE_EXHAUSTED', failed: true, refusedBy: 'requests_per_second', upstreamMs: null, instance: null }));
    const requests = await series(registry, METRIC.inferenceRequests);
    const tenants = new Set([...requests.keys()].map((key) => /tenant=([^,]*)/.exec(key)?.[1]));
    assert.deepEqual([...tenants].sort(), ['', 'other', 't_0', 't_1', 't_2']);
    const models = new Set([...requests.keys()].map((key) => /model=([^,]*)/.exec(key)?.[1]));
    assert.deepEqual([...models].sort(), ['simple', 'unknown']);
    assert.ok(requests.size <= 5 * 2 + 2, `at most a few series, got ${requests.size}`);
    assert.equal([...requests.values()].reduce((sum, value) => sum + value, 0), 502, 'every call is counted once');
    assert.equal(requests.get('code=OK,model=simple,protocol=grpc,rpc=ModelInfer,tenant=t_0'), 10);
    assert.equal(requests.get('code=UNAUTHENTICATED,model=unknown,protocol=grpc,rpc=ModelInfer,tenant='), 1);
    const rejections = await series(registry, METRIC.quotaRejections);
    assert.deepEqual([...rejections], [['limit=requests_per_second,tenant=other', 1]]);
    const received = await series(registry, METRIC.inferenceReceivedBytes);
    assert.equal(received.get('model=simple'), 250 * 10 + 10);
    const upstreamCount = [...(await series(registry, `${METRIC.upstreamDuration}_count`)).values()].reduce((sum, value) => sum + value, 0);
    assert.equal(upstreamCount, 500, 'only calls that reached an instance');
  });

  it('without a tenant limit the metrics carry no tenant label at all', async () => {
    const registry = new Registry();
    const metrics = new InferenceMetrics(registry, new LabelBounds({ tenantLimit: 0, knowsModel: () => true }));
    metrics.observe(outcome({ refusedBy: 'max_concurrent', code: 'RESOURCE_EXHAUSTED' }));
    assert.deepEqual([...(await series(registry, METRIC.inferenceRequests)).keys()], ['code=RESOURCE_EXHAUSTED,model=simple,protocol=grpc,rpc=ModelInfer']);
    assert.deepEqual([...(await series(registry, METRIC.quotaRejections)).keys()], ['limit=max_concurrent']);
  });
});
