import assert from 'node:assert/strict';
import { request as httpRequest, type IncomingHttpHeaders } from 'node:http';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';

interface HttpAnswer {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One HTTP request on its own connection (no keep-alive agent, so nothing stays open). */
function httpGet(port: number, path: string, method = 'GET'): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = httpRequest({ host: '127.0.0.1', port, path, method, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
      response.on('error', reject);
    });
    request.on('error', reject);
    request.end();
  });
}

interface Sample {
  readonly labels: Record<string, string>;
  readonly value: number;
}

interface MetricFamily {
  help: string | null;
  type: string | null;
  readonly samples: Sample[];
}

/** Prometheus text format 0.0.4: # HELP / # TYPE lines and `name{label="value",...} number` samples. */
function parsePrometheus(text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>();
  const familyOf = (name: string): MetricFamily => {
    let family = families.get(name);
    if (family === undefined) {
      family = { help: null, type: null, samples: [] };
      families.set(name, family);
    }
    return family;
  };
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const comment = /^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$/.exec(line);
    if (comment !== null) {
      const family = familyOf(comment[2] as string);
      if (comment[1] === 'HELP') family.help = comment[3] as string;
      else family.type = comment[3] as string;
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    assert.ok(sample !== null, `not a Prometheus sample line: ${line}`);
    const labels: Record<string, string> = {};
    for (const match of (sample[2] ?? '').matchAll(/([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g)) labels[match[1] as string] = match[2] as string;
    familyOf(sample[1] as string).samples.push({ labels, value: Number(sample[3]) });
  }
  return families;
}

interface StatisticDuration { count: string; ns: string }
interface ModelStats {
  inference_count: string;
  execution_count: string;
  inference_stats: Record<'success' | 'fail' | 'queue' | 'compute_input' | 'compute_infer' | 'compute_output', StatisticDuration>;
}

const COUNTERS = [
  'nv_inference_request_success',
  'nv_inference_request_failure',
  'nv_inference_count',
  'nv_inference_exec_count',
  'nv_inference_request_duration_us',
  'nv_inference_queue_duration_us',
  'nv_inference_compute_input_duration_us',
  'nv_inference_compute_infer_duration_us',
  'nv_inference_compute_output_duration_us',
];

const us = (duration: StatisticDuration): number => Number(BigInt(duration.ns) / 1000n);

describe('local-triton: Prometheus metrics', () => {
  let repository: TempRepository | undefined;
  let fixture: LocalTritonFixture;
  let port: number;

  const simple = (rows: number, datatype = 'INT32'): Record<string, unknown> => {
    const data = int32Buffer(Array.from({ length: rows * 16 }, (_, i) => i));
    return inferRequest('simple', [
      { name: 'INPUT0', datatype, shape: [rows, 16], raw: data },
      { name: 'INPUT1', datatype: 'INT32', shape: [rows, 16], raw: data },
    ]);
  };
  const scrape = async (): Promise<Map<string, MetricFamily>> => {
    const answer = await httpGet(port, '/metrics');
    assert.equal(answer.status, 200);
    return parsePrometheus(answer.body);
  };
  const value = (families: Map<string, MetricFamily>, name: string, labels: Record<string, string>): number => {
    const matches = families.get(name)?.samples.filter((sample) => Object.entries(labels).every(([key, v]) => sample.labels[key] === v)) ?? [];
    assert.equal(matches.length, 1, `${name}${JSON.stringify(labels)}: expected one sample, found ${matches.length}`);
    return (matches[0] as Sample).value;
  };
  const stats = async (model: string): Promise<ModelStats> => {
    const response = await fixture.client.unary<{ model_stats: ModelStats[] }>('ModelStatistics', { name: model, version: '1' });
    return response.model_stats[0] as ModelStats;
  };

  before(async () => {
    repository = new TempRepository().copySample('simple', 'identity_fp32');
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
    assert.ok(fixture.server.metricsPort !== null);
    port = fixture.server.metricsPort;
    for (const rows of [1, 2, 3]) await fixture.client.unary('ModelInfer', simple(rows));
    for (let i = 0; i < 2; i++) await grpcError(fixture.client.unary('ModelInfer', simple(1, 'FP32')));
    await fixture.client.unary('ModelInfer', inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [3], raw: float32Buffer([1, 2, 3]) }]));
  });
  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  it('serves Prometheus text with HELP and TYPE for every per-model family, labelled model="simple",version="1"', async () => {
    const answer = await httpGet(port, '/metrics');
    assert.equal(answer.status, 200);
    assert.match(answer.headers['content-type'] ?? '', /^text\/plain; version=0\.0\.4/);
    const families = parsePrometheus(answer.body);
    for (const name of [...COUNTERS, 'nv_inference_pending_request_count']) {
      const family = families.get(name);
      assert.ok(family !== undefined, `no ${name}`);
      assert.ok(family.help !== null && family.help.length > 0, `no # HELP for ${name}`);
      assert.equal(family.type, name === 'nv_inference_pending_request_count' ? 'gauge' : 'counter', `# TYPE of ${name}`);
      assert.ok(family.samples.some((s) => s.labels['model'] === 'simple' && s.labels['version'] === '1'), `${name} has no sample for simple version 1`);
      assert.ok(family.samples.some((s) => s.labels['model'] === 'identity_fp32' && s.labels['version'] === '1'), `${name} has no sample for identity_fp32`);
      assert.ok(family.samples.every((s) => Number.isFinite(s.value) && s.value >= 0), `${name} has a non-numeric or negative sample`);
    }
    const failureReasons = families.get('nv_inference_request_failure')?.samples.filter((s) => s.labels['model'] === 'simple').map((s) => s.labels['reason']).sort();
    assert.deepEqual(failureReasons, ['BACKEND', 'CANCELED', 'OTHER', 'REJECTED']);
  });

  it('agrees with ModelStatistics', async () => {
    const families = await scrape();
    const statistics = await stats('simple');
    const simpleLabels = { model: 'simple', version: '1' };
    const inference = statistics.inference_stats;
    assert.equal(value(families, 'nv_inference_request_success', simpleLabels), 3);
    assert.equal(value(families, 'nv_inference_request_success', simpleLabels), Number(inference.success.count));
    assert.equal(value(families, 'nv_inference_request_failure', { ...simpleLabels, reason: 'REJECTED' }), 2);
    const failures = families.get('nv_inference_request_failure')?.samples.filter((s) => s.labels['model'] === 'simple').reduce((sum, s) => sum + s.value, 0);
    assert.equal(failures, Number(inference.fail.count));
    assert.equal(value(families, 'nv_inference_count', simpleLabels), 6, 'batch sizes 1 + 2 + 3');
    assert.equal(value(families, 'nv_inference_count', simpleLabels), Number(statistics.inference_count));
    assert.equal(value(families, 'nv_inference_exec_count', simpleLabels), Number(statistics.execution_count));
    assert.equal(value(families, 'nv_inference_exec_count', simpleLabels), 3);
    // Triton adds a request's duration to nv_inference_request_duration_us only when it succeeds.
    assert.equal(value(families, 'nv_inference_request_duration_us', simpleLabels), us(inference.success));
    assert.equal(value(families, 'nv_inference_queue_duration_us', simpleLabels), us(inference.queue));
    assert.equal(value(families, 'nv_inference_compute_input_duration_us', simpleLabels), us(inference.compute_input));
    assert.equal(value(families, 'nv_inference_compute_infer_duration_us', simpleLabels), us(inference.compute_infer));
    assert.equal(value(families, 'nv_inference_compute_output_duration_us', simpleLabels), us(inference.compute_output));
    assert.ok(value(families, 'nv_inference_request_duration_us', simpleLabels) > 0);
    assert.ok(value(families, 'nv_inference_compute_infer_duration_us', simpleLabels) > 0, 'three onnxruntime executions take more than a microsecond');
    assert.ok(value(families, 'nv_inference_request_duration_us', simpleLabels) >= value(families, 'nv_inference_compute_infer_duration_us', simpleLabels));
    assert.equal(value(families, 'nv_inference_pending_request_count', simpleLabels), 0);

    const identity = await stats('identity_fp32');
    const identityLabels = { model: 'identity_fp32', version: '1' };
    assert.equal(value(families, 'nv_inference_request_success', identityLabels), 1);
    assert.equal(value(families, 'nv_inference_count', identityLabels), Number(identity.inference_count));
    assert.equal(value(families, 'nv_inference_request_duration_us', identityLabels), us(identity.inference_stats.success));
  });

  it('counters move with each inference', async () => {
    const before = await scrape();
    await fixture.client.unary('ModelInfer', simple(4));
    await grpcError(fixture.client.unary('ModelInfer', simple(9)));
    const after = await scrape();
    const simpleLabels = { model: 'simple', version: '1' };
    const delta = (name: string, labels: Record<string, string> = simpleLabels): number => value(after, name, labels) - value(before, name, labels);
    assert.equal(delta('nv_inference_request_success'), 1);
    assert.equal(delta('nv_inference_request_failure', { ...simpleLabels, reason: 'REJECTED' }), 1, 'a batch over max_batch_size is rejected');
    assert.equal(delta('nv_inference_count'), 4);
    assert.equal(delta('nv_inference_exec_count'), 1);
    assert.ok(delta('nv_inference_request_duration_us') > 0, 'the successful request added its duration');
    assert.equal(delta('nv_inference_request_success', { model: 'identity_fp32', version: '1' }), 0);
  });

  it('answers 404 on every other path and method', async () => {
    for (const path of ['/', '/metric', '/metrics/', '/metrics/extra', '/v2/models/simple/stats']) {
      const answer = await httpGet(port, path);
      assert.equal(answer.status, 404, path);
    }
    assert.equal((await httpGet(port, '/metrics', 'POST')).status, 404, 'POST /metrics');
    assert.equal((await httpGet(port, '/metrics?name=simple')).status, 200, 'a query string is ignored');
  });
});
