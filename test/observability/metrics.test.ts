import assert from 'node:assert/strict';
import { status } from '@grpc/grpc-js';
import { after, before, describe, it } from 'mocha';
import { HISTOGRAM_NAMES, METRIC, METRIC_NAMES } from '../../src/observability/metrics/metric-names';
import { processMetricsRegistry } from '../../src/observability/metrics/process-metrics';
import { parsePrometheusText, parseSampleLine, type PrometheusSample } from '../../src/triton/prometheus-text';
import { grpcError, TritonTestClient } from '../support/grpc-test-client';
import { inferRequest, int32Buffer } from '../support/infer-request';
import { createTestTenant, type TestTenant } from '../support/tenant-setup';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** Successful gRPC calls, successful REST calls, and calls the quota refuses. */
const N = 2;
const M = 2;
const K = 3;
/** The tenant's quota admits one call per second (burst 1): successful calls are spaced by this. */
const SPACING_MS = 1100;
const METRICS_KEY = 'metrics-key-for-the-test-0123456789';

function simpleGrpcRequest(): Record<string, unknown> {
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, (i) => i)) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(range(16, () => 1)) },
  ]);
}

const SIMPLE_REST_BODY = JSON.stringify({
  inputs: [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: range(16, (i) => i) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: range(16, () => 1) },
  ],
});

/** The sum of every sample of `name` whose labels include `labels` (0 when none matches). */
function total(samples: readonly PrometheusSample[], name: string, labels: Record<string, string> = {}): number {
  return samples
    .filter((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels.get(key) === value))
    .reduce((sum, sample) => sum + sample.value, 0);
}

function has(samples: readonly PrometheusSample[], name: string, labels: Record<string, string> = {}): boolean {
  return samples.some((sample) => sample.name === name && Object.entries(labels).every(([key, value]) => sample.labels.get(key) === value));
}

describe('GET /metrics: Prometheus metrics of triage (embedded local-triton)', function () {
  this.timeout(90_000);
  let repository: TempRepository;
  let fixture: TriageFixture;
  let base: string;
  let embeddedAddress: string;

  const scrape = async (headers: Record<string, string> = {}): Promise<PrometheusSample[]> => {
    const response = await fetch(`${base}/metrics`, { headers });
    assert.equal(response.status, 200, await response.clone().text());
    assert.match(response.headers.get('content-type') ?? '', /^text\/plain; version=0\.0\.4; charset=utf-8$/);
    const text = await response.text();
    const parsed = parsePrometheusText(text);
    const malformed = text.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#') && parseSampleLine(line) === null);
    assert.deepEqual(malformed, [], 'every line of /metrics is well formed');
    assert.equal(parsed.skippedLines, 0);
    return parsed.samples;
  };

  /** Scrapes until `done` holds (the front doors report a call just after the client has its answer), at most 10 s. */
  const scrapeUntil = async (done: (samples: PrometheusSample[]) => boolean, what: string): Promise<PrometheusSample[]> => {
    const deadline = Date.now() + 10_000;
    for (;;) {
      const samples = await scrape();
      if (done(samples)) return samples;
      if (Date.now() > deadline) assert.fail(`/metrics never showed ${what}`);
      await sleep(100);
    }
  };

  before(async () => {
    repository = new TempRepository().copySample('simple');
    fixture = await startTriageFixture([], {
      tritonUrls: { kind: 'embedded' },
      modelRepository: repository.path,
      metricsTenantLabelLimit: 10,
      tritonMetricsIntervalMs: 200,
    });
    base = `http://127.0.0.1:${fixture.triage.httpPort}`;
    embeddedAddress = `127.0.0.1:${fixture.triage.embedded?.grpcPort ?? 0}`;
  });

  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  it('counts gRPC and REST calls, their latency and the quota refusals exactly', async () => {
    const tenant: TestTenant = await createTestTenant(fixture.triage.tenancy.service, { quotas: { requests_per_second: 1, burst: 1 } });
    const client = new TritonTestClient(fixture.address, undefined, tenant.key);
    try {
      const mine = { model: 'simple', tenant: tenant.id };
      const grpcOk = { ...mine, protocol: 'grpc', rpc: 'ModelInfer', code: 'OK' };
      const restOk = { ...mine, protocol: 'http', rpc: 'infer', code: '200' };
      const refused = { ...mine, protocol: 'grpc', rpc: 'ModelInfer', code: 'RESOURCE_EXHAUSTED' };
      const before = await scrape();
      assert.equal(total(before, METRIC.inferenceRequests, mine), 0, 'a new tenant has no calls yet');
      const admissionsBefore = { redis: total(before, METRIC.quotaAdmissions, { path: 'redis' }), credit: total(before, METRIC.quotaAdmissions, { path: 'credit' }) };
      const scriptCallsBefore = { admit: total(before, METRIC.quotaScriptCalls, { script: 'admit' }), credit: total(before, METRIC.quotaScriptCalls, { script: 'credit' }) };
      const durationBefore = { grpc: total(before, `${METRIC.inferenceDuration}_count`, { model: 'simple', protocol: 'grpc' }), http: total(before, `${METRIC.inferenceDuration}_count`, { model: 'simple', protocol: 'http' }) };

      for (let call = 0; call < N; call++) {
        if (call > 0) await sleep(SPACING_MS);
        await client.unary('ModelInfer', simpleGrpcRequest());
      }
      for (let call = 0; call < M; call++) {
        await sleep(SPACING_MS);
        const response = await fetch(`${base}/v2/models/simple/infer`, { method: 'POST', headers: { authorization: `Bearer ${tenant.key}`, 'content-type': 'application/json' }, body: SIMPLE_REST_BODY });
        assert.equal(response.status, 200, await response.text());
      }
      // Right after an admitted call, a quota of 1/s with burst 1 has no room: each of these is refused.
      for (let call = 0; call < K; call++) {
        const error = await grpcError(client.unary('ModelInfer', simpleGrpcRequest()));
        assert.equal(error.code, status.RESOURCE_EXHAUSTED, error.details);
        assert.match(error.details, /^requests_per_second of tenant/);
      }

      const after = await scrapeUntil((samples) => total(samples, METRIC.inferenceRequests, mine) >= N + M + K
        && total(samples, `${METRIC.inferenceDuration}_count`, { model: 'simple', protocol: 'http' }) - durationBefore.http >= M, `${N + M + K} calls of the tenant`);
      assert.equal(total(after, METRIC.inferenceRequests, grpcOk), N);
      assert.equal(total(after, METRIC.inferenceRequests, restOk), M);
      assert.equal(total(after, METRIC.inferenceRequests, refused), K);
      assert.equal(total(after, METRIC.inferenceRequests, mine), N + M + K, 'no other series for the tenant');
      // The latency histogram counts refused calls too (they are latency the client saw).
      assert.equal(total(after, `${METRIC.inferenceDuration}_count`, { model: 'simple', protocol: 'grpc' }) - durationBefore.grpc, N + K);
      assert.equal(total(after, `${METRIC.inferenceDuration}_count`, { model: 'simple', protocol: 'http' }) - durationBefore.http, M);
      assert.equal(total(after, METRIC.quotaRejections, { limit: 'requests_per_second', tenant: tenant.id }), K);
      assert.equal(total(after, METRIC.quotaRejections, { tenant: tenant.id }), K, 'no other limit refused the tenant');
      assert.ok(total(after, `${METRIC.upstreamDuration}_count`, { model: 'simple', triton_instance: embeddedAddress }) >= N + M, 'admitted calls reached the instance');
      // One call at a time, about one a second: each admitted or refused by a script call of its own, no credit.
      assert.equal(total(after, METRIC.quotaAdmissions, { path: 'redis' }) - admissionsBefore.redis, N + M);
      assert.equal(total(after, METRIC.quotaAdmissions, { path: 'credit' }) - admissionsBefore.credit, 0);
      assert.equal(total(after, METRIC.quotaScriptCalls, { script: 'admit' }) - scriptCallsBefore.admit, N + M + K);
      assert.equal(total(after, METRIC.quotaScriptCalls, { script: 'credit' }) - scriptCallsBefore.credit, 0);
      assert.ok(total(after, METRIC.inferenceReceivedBytes, { model: 'simple' }) > 0);
      assert.ok(total(after, METRIC.inferenceSentBytes, { model: 'simple' }) > 0);
    } finally {
      client.close();
    }
  });

  it('shows the instances, Node process metrics and Triton\'s own scraped figures', async () => {
    const samples = await scrapeUntil((current) => total(current, METRIC.tritonInferenceCount, { triton_instance: embeddedAddress, model: 'simple' }) > 0, 'Triton\'s inference count of simple');
    assert.equal(total(samples, METRIC.instanceUp, { triton_instance: embeddedAddress }), 1);
    assert.equal(total(samples, METRIC.instanceReady, { triton_instance: embeddedAddress }), 1);
    assert.ok(has(samples, METRIC.instanceInFlight, { triton_instance: embeddedAddress }));
    assert.equal(total(samples, METRIC.tritonScrapeUp, { triton_instance: embeddedAddress }), 1);
    assert.ok(total(samples, METRIC.tritonCpuMemoryUsed, { triton_instance: embeddedAddress }) > 0);
    assert.ok(has(samples, METRIC.tritonQueueDuration, { triton_instance: embeddedAddress, model: 'simple' }));
    for (const name of ['triage_process_cpu_seconds_total', 'triage_process_resident_memory_bytes', 'triage_nodejs_heap_size_used_bytes', 'triage_nodejs_eventloop_lag_seconds']) {
      assert.ok(has(samples, name), `${name} (Node process metrics) is present`);
    }
    assert.equal(total(samples, METRIC.redisUp), 1);
    assert.ok(total(samples, `${METRIC.redisRoundTrip}_count`) >= 1, 'Redis was PINGed');
    // The names the code exports for the deploy files' check are exactly those /metrics declares (the process metrics aside).
    const text = await (await fetch(`${base}/metrics`)).text();
    const declared = [...text.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((match) => ({ name: match[1] ?? '', type: match[2] ?? '' }));
    const processNames = new Set(processMetricsRegistry().getMetricsAsArray().map((metric) => metric.name));
    const own = declared.filter((metric) => !processNames.has(metric.name));
    assert.deepEqual(own.map((metric) => metric.name).sort(), [...METRIC_NAMES].sort());
    assert.deepEqual(own.filter((metric) => metric.type === 'histogram').map((metric) => metric.name).sort(), [...HISTOGRAM_NAMES].sort());
    const figures = fixture.triage.tritonMetrics.latest(embeddedAddress);
    assert.ok(figures !== null);
    assert.ok((figures.models.find((model) => model.model === 'simple')?.inference_count ?? 0) > 0);
    assert.ok(figures.cpu_memory_used_bytes !== null && figures.cpu_memory_used_bytes > 0);
    assert.deepEqual(figures.gpu, [], 'local-triton has no GPU');
    assert.equal(fixture.triage.tritonMetrics.latest('10.255.255.1:8001'), null);
  });

  it('shows a deployed model READY on the instance, and counts the rows of a batch job', async () => {
    const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
    const deployed = await fetch(`${base}/v1/models/simple/deploy`, { method: 'POST', headers: admin, body: JSON.stringify({ replicas: 1 }) });
    assert.equal(deployed.status, 202, await deployed.text());
    await scrapeUntil((samples) => total(samples, METRIC.modelState, { model: 'simple', triton_instance: embeddedAddress, state: 'READY' }) === 1, 'simple READY');
    const states = (await scrape()).filter((sample) => sample.name === METRIC.modelState && sample.labels.get('model') === 'simple');
    assert.deepEqual(states.map((sample) => [sample.labels.get('state'), sample.value]).sort(), [['FAILED', 0], ['LOADING', 0], ['READY', 1], ['UNLOADING', 0]]);

    const before = await scrape();
    const rowsBefore = total(before, METRIC.jobRows, { outcome: 'completed' });
    const row = (id: string): unknown => ({ custom_id: id, inputs: { INPUT0: range(16, (i) => i), INPUT1: range(16, () => 2) } });
    const created = await fetch(`${base}/v1/jobs`, { method: 'POST', headers: admin, body: JSON.stringify({ model: 'simple', rows: [row('a'), row('b'), row('c')] }) });
    const createdText = await created.text();
    assert.equal(created.status, 201, createdText);
    const job = JSON.parse(createdText) as { id: string };
    const deadline = Date.now() + 30_000;
    for (;;) {
      const current = await (await fetch(`${base}/v1/jobs/${job.id}`, { headers: admin })).json() as { status: string };
      if (current.status === 'completed') break;
      assert.ok(Date.now() < deadline, `job still ${current.status}`);
      await sleep(100);
    }
    const after = await scrapeUntil((samples) => total(samples, METRIC.jobs, { state: 'completed' }) >= 1, 'the completed job');
    assert.equal(total(after, METRIC.jobRows, { outcome: 'completed' }) - rowsBefore, 3);
    assert.equal(total(after, METRIC.jobRows, { outcome: 'failed' }), 0);
    assert.equal(total(after, METRIC.jobs, { state: 'completed' }), 1);
    assert.equal(total(after, METRIC.jobs, { state: 'queued' }), 0);
    assert.equal(total(after, METRIC.jobQueueDepth), 0);
    assert.equal(total(after, METRIC.jobQueueOldestAge), 0);
  });

  describe('with --metrics-key', () => {
    let guarded: TriageFixture;

    before(async () => {
      // No worker in this process: its jobs' chunks wait.
      guarded = await startTriageFixture([embeddedAddress], { metricsKey: METRICS_KEY, tritonMetricsPort: -1, jobsConcurrency: 0 });
    });

    after(async () => {
      await guarded?.stop();
    });

    it('answers 401 without the key or with another one, 200 with it', async () => {
      const url = `http://127.0.0.1:${guarded.triage.httpPort}/metrics`;
      const none = await fetch(url);
      assert.equal(none.status, 401);
      assert.match(((await none.json()) as { error: string }).error, /metrics key/);
      const wrong = await fetch(url, { headers: { authorization: `Bearer ${METRICS_KEY}x` } });
      assert.equal(wrong.status, 401);
      await wrong.body?.cancel();
      const adminKey = await fetch(url, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` } });
      assert.equal(adminKey.status, 401, 'an API key is not the metrics key');
      await adminKey.body?.cancel();
      const right = await fetch(url, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
      assert.equal(right.status, 200);
      const samples = parsePrometheusText(await right.text()).samples;
      assert.equal(total(samples, METRIC.instanceUp, { triton_instance: embeddedAddress }), 1);
      assert.ok(!has(samples, METRIC.tritonScrapeUp), 'Triton metrics are not scraped with --triton-metrics-port -1');
    });

    it('shows chunks waiting for a worker in the queue depth and age', async () => {
      const guardedBase = `http://127.0.0.1:${guarded.triage.httpPort}`;
      const admin = { authorization: `Bearer ${TEST_ADMIN_KEY}`, 'content-type': 'application/json' };
      const rows = Array.from({ length: 40 }, (_, i) => ({ custom_id: `r${i}`, inputs: { INPUT0: range(16, (j) => j), INPUT1: range(16, () => i) } }));
      const created = await fetch(`${guardedBase}/v1/jobs`, { method: 'POST', headers: admin, body: JSON.stringify({ model: 'simple', rows }) });
      const createdText = await created.text();
      assert.equal(created.status, 201, createdText);
      const chunks = (JSON.parse(createdText) as { chunks_total?: number }).chunks_total;
      await sleep(2100);
      const metrics = await fetch(`${guardedBase}/metrics`, { headers: { authorization: `Bearer ${METRICS_KEY}` } });
      const samples = parsePrometheusText(await metrics.text()).samples;
      assert.equal(total(samples, METRIC.jobs, { state: 'queued' }), 1);
      assert.ok(total(samples, METRIC.jobQueueDepth) >= 2, 'the job\'s chunks wait (40 rows: at least two chunks of at most 32)');
      if (chunks !== undefined) assert.equal(total(samples, METRIC.jobQueueDepth), chunks);
      const age = total(samples, METRIC.jobQueueOldestAge);
      assert.ok(age >= 2 && age < 30, `the oldest chunk waits since the job was queued, ${age} s ago`);
      assert.equal(total(samples, METRIC.jobRows), 0, 'this process ran no rows');
    });
  });
});
