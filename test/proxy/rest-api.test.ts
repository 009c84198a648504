import { sharedRedisUrl, TEST_ADMIN_KEY, TEST_JOBS_KEY, uniquePrefix } from '../support/test-redis';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { deflateSync, gzipSync } from 'node:zlib';
import { after, before, describe, it } from 'mocha';
import { parseSettings } from '../../src/config/parse-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { startTriage, type RunningTriage, type ServeSettings } from '../../src/main';
import { silentLogger } from '../../src/observability/logger';
import { projectRoot } from '../../src/protocol/project-paths';
import { TRIAGE_VERSION } from '../../src/version';
import { TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readFloat32, readInt32 } from '../support/infer-request';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';

interface GrpcInferResponse {
  model_name: string;
  model_version: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

interface RestOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

interface RestInferResponse {
  model_name: string;
  model_version: string;
  id?: string;
  outputs: RestOutput[];
}

// A JSON document under test: `any` so that assertions can reach into it (the assertions are the type check).
type JsonDocument = Record<string, any>;

const MAX_MESSAGE_BYTES = 1024 * 1024;
const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

/** A binary inference body: JSON header, then the tensors; returns the body and the header length. */
function binaryBody(header: unknown, tensors: readonly Buffer[]): { body: Buffer; headerLength: number } {
  const json = Buffer.from(JSON.stringify(header));
  return { body: Buffer.concat([json, ...tensors]), headerLength: json.length };
}

/** Splits a binary inference answer into its JSON header and the binary outputs, by binary_data_size. */
async function readBinaryAnswer(response: Response): Promise<{ header: RestInferResponse; binary: Map<string, Buffer> }> {
  const body = Buffer.from(await response.arrayBuffer());
  const headerLength = Number(response.headers.get('inference-header-content-length'));
  const header = JSON.parse(body.subarray(0, headerLength).toString('utf8')) as RestInferResponse;
  const binary = new Map<string, Buffer>();
  let offset = headerLength;
  for (const output of header.outputs) {
    const size = output.parameters?.['binary_data_size'];
    if (typeof size !== 'number') continue;
    binary.set(output.name, body.subarray(offset, offset + size));
    offset += size;
  }
  assert.equal(offset, body.length, 'the binary outputs fill the rest of the body');
  return { header, binary };
}

describe('triage serve: KServe v2 REST on the HTTP port', function () {
  this.timeout(30_000);
  let triage: RunningTriage;
  let client: TritonTestClient;
  let base: string;

  const get = (path: string, headers: Record<string, string> = {}): Promise<Response> => fetch(`${base}${path}`, { headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers } });
  const postJson = (path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers }, body: JSON.stringify(body) });
  const postBytes = (path: string, body: Buffer, headers: Record<string, string>): Promise<Response> =>
    fetch(`${base}${path}`, { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers }, body });
  const errorOf = async (response: Response): Promise<string> => ((await response.json()) as { error: string }).error;

  const simpleInputs = (a: number[], b: number[]): unknown[] => [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: a },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
  ];

  before(async () => {
    const settings: ServeSettings = {
      ...parseSettings(SERVE_SETTINGS, new Map(), {}),
      listenAddress: '127.0.0.1',
      grpcPort: 0,
      httpPort: 0,
      tritonUrls: { kind: 'embedded' },
      modelRepository: SAMPLE_REPOSITORY,
      maxMessageBytes: MAX_MESSAGE_BYTES,
      probeIntervalMs: 200,
      probeTimeoutMs: 1_000,
      shutdownGraceMs: 1_000,
      redisUrl: await sharedRedisUrl(),
      redisPrefix: uniquePrefix(),
      adminKey: TEST_ADMIN_KEY,
      jobsKeys: [TEST_JOBS_KEY],
    };
    triage = await startTriage(settings, silentLogger());
    client = new TritonTestClient(`127.0.0.1:${triage.grpcPort}`, undefined, TEST_ADMIN_KEY);
    base = `http://127.0.0.1:${triage.httpPort}`;
  });

  after(async () => {
    client?.close();
    await triage?.stop();
  });

  describe('health and metadata', () => {
    it('answers live and ready with 200 and an empty body', async () => {
      for (const path of ['/v2/health/live', '/v2/health/ready']) {
        const response = await get(path);
        assert.equal(response.status, 200, path);
        assert.equal(await response.text(), '', path);
      }
    });

    it('answers GET /v2 with the same server metadata as the gRPC ServerMetadata', async () => {
      const response = await get('/v2');
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const metadata = await response.json() as { name: string; version: string; extensions: string[] };
      assert.equal(metadata.name, 'triage');
      assert.equal(metadata.version, TRIAGE_VERSION);
      assert.ok(metadata.extensions.includes('binary_tensor_data'));
      assert.deepEqual(metadata, await client.unary('ServerMetadata', {}));
    });

    it('answers model metadata as ModelMetadata does, with shapes as JSON numbers', async () => {
      const grpc = await client.unary<{ inputs: { shape: string[] }[]; outputs: { shape: string[] }[] }>('ModelMetadata', { name: 'simple', version: '' });
      const numeric = (tensor: { shape: string[] }): unknown => ({ ...tensor, shape: tensor.shape.map(Number) });
      const expected = { ...grpc, inputs: grpc.inputs.map(numeric), outputs: grpc.outputs.map(numeric) };
      for (const path of ['/v2/models/simple', '/v2/models/simple/versions/1']) {
        const response = await get(path);
        assert.equal(response.status, 200, path);
        const metadata = await response.json() as { name: string; platform: string; inputs: { name: string; datatype: string; shape: number[] }[] };
        assert.deepEqual(metadata, expected, path);
        assert.deepEqual(metadata.inputs[0], { name: 'INPUT0', datatype: 'INT32', shape: [-1, 16] });
      }
    });

    it('answers model readiness with 200 and an empty body, or 400 with Triton\'s text', async () => {
      for (const path of ['/v2/models/simple/ready', '/v2/models/simple/versions/1/ready']) {
        const response = await get(path);
        assert.equal(response.status, 200, path);
        assert.equal(await response.text(), '', path);
      }
      for (const path of ['/v2/models/simple/versions/7/ready', '/v2/models/no_such_model/ready']) {
        const response = await get(path);
        assert.equal(response.status, 400, path);
        assert.deepEqual(await response.json(), { error: 'Model version not ready' }, path);
      }
    });

    it('answers the model config as Triton\'s HTTP port does: proto field names, defaults printed, 64-bit fields as numbers', async () => {
      const response = await get('/v2/models/breast_cancer_mlp/config');
      assert.equal(response.status, 200);
      const config = await response.json() as JsonDocument;
      assert.equal(config['name'], 'breast_cancer_mlp');
      assert.equal(config['max_batch_size'], 256);
      assert.deepEqual(config['input'][0].dims, [30]);
      assert.equal(config['input'][0].data_type, 'TYPE_FP32');
      assert.equal(config['input'][0].is_shape_tensor, false, 'implicit-presence defaults are printed');
      assert.deepEqual(config['output'][0].dims, [2]);
      assert.equal(config['dynamic_batching'].max_queue_delay_microseconds, 2000);
      assert.deepEqual(config['dynamic_batching'].preferred_batch_size, [64, 128, 256]);
      assert.equal(config['instance_group'][0].kind, 'KIND_CPU');
      const identity = await (await get('/v2/models/identity_fp32/config')).json() as Record<string, unknown>;
      assert.equal(identity['max_batch_size'], 0, 'a zero max_batch_size is printed, as clients read it');
      assert.deepEqual((identity['input'] as { dims: number[] }[])[0]?.dims, [-1]);
    });

    it('answers 404 with Triton\'s text for a model no instance knows', async () => {
      for (const path of ['/v2/models/no_such_model', '/v2/models/no_such_model/config', '/v2/models/no_such_model/stats']) {
        const response = await get(path);
        assert.equal(response.status, 404, path);
        assert.equal(await errorOf(response), "Request for unknown model: 'no_such_model' is not found", path);
      }
      const infer = await postJson('/v2/models/no_such_model/infer', { inputs: simpleInputs(range(16, () => 0), range(16, () => 0)) });
      assert.equal(infer.status, 404);
      assert.equal(await errorOf(infer), "Request for unknown model: 'no_such_model' is not found");
    });
  });

  describe('inference', () => {
    it('answers a JSON inference of simple exactly as ModelInfer through the gRPC port', async () => {
      const a = range(16, (i) => i * 3 - 7);
      const b = range(16, (i) => 100 - i * i);
      const response = await postJson('/v2/models/simple/infer', { id: 'rest-1', inputs: simpleInputs(a, b) });
      assert.equal(response.status, 200);
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/);
      const rest = await response.json() as RestInferResponse;
      const grpc = await client.unary<GrpcInferResponse>('ModelInfer', inferRequest('simple', [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
      ]));
      assert.equal(rest.model_name, grpc.model_name);
      assert.equal(rest.model_version, grpc.model_version);
      assert.equal(rest.id, 'rest-1');
      assert.deepEqual(rest.outputs, grpc.outputs.map((output, index) => ({
        name: output.name,
        datatype: output.datatype,
        shape: output.shape.map(Number),
        data: readInt32(grpc.raw_output_contents[index] as Buffer),
      })));
      assert.deepEqual(rest.outputs[0]?.data, a.map((x, i) => x + (b[i] as number)));
    });

    it('accepts nested data and a versioned route, and returns only the requested outputs', async () => {
      const a = range(32, (i) => i);
      const b = range(32, () => 5);
      const nested = (values: number[]): number[][] => [values.slice(0, 16), values.slice(16)];
      const response = await postJson('/v2/models/simple/versions/1/infer', {
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], data: nested(a) },
          { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], data: nested(b) },
        ],
        outputs: [{ name: 'OUTPUT1' }],
      });
      assert.equal(response.status, 200, await response.clone().text());
      const rest = await response.json() as RestInferResponse;
      assert.equal(rest.model_version, '1');
      assert.equal(rest.id, undefined, 'no id is echoed when none was sent');
      assert.deepEqual(rest.outputs, [{ name: 'OUTPUT1', datatype: 'INT32', shape: [2, 16], data: a.map((x) => x - 5) }]);
    });

    it('classifies several breast_cancer_mlp rows in one JSON request, as the gRPC port does', async () => {
      const holdout = JSON.parse(readFileSync(join(projectRoot(), 'test/fixtures/breast-cancer-holdout.json'), 'utf8')) as { cases: { features: number[]; label: number }[] };
      const rows = holdout.cases.slice(0, 12);
      const response = await postJson('/v2/models/breast_cancer_mlp/infer', {
        inputs: [{ name: 'features', datatype: 'FP32', shape: [rows.length, 30], data: rows.map((row) => row.features) }],
      });
      assert.equal(response.status, 200);
      const rest = await response.json() as RestInferResponse;
      const output = rest.outputs[0] as RestOutput;
      assert.deepEqual([output.name, output.datatype, output.shape], ['probabilities', 'FP32', [rows.length, 2]]);
      const grpc = await client.unary<GrpcInferResponse>('ModelInfer', inferRequest('breast_cancer_mlp', [
        { name: 'features', datatype: 'FP32', shape: [rows.length, 30], raw: float32Buffer(rows.flatMap((row) => row.features)) },
      ]));
      const expected = readFloat32(grpc.raw_output_contents[0] as Buffer);
      const actual = output.data as number[];
      assert.equal(actual.length, rows.length * 2);
      actual.forEach((value, index) => assert.ok(Math.abs(value - (expected[index] as number)) < 1e-6, `probability #${index}`));
      const correct = rows.filter((row, index) => (actual[index * 2 + row.label] as number) > 0.5).length;
      assert.ok(correct >= rows.length - 1, `${correct} of ${rows.length} classified correctly`);
    });

    it('takes binary inputs (Inference-Header-Content-Length) and answers JSON when no binary output is asked for', async () => {
      const a = range(16, (i) => i);
      const b = range(16, (i) => -i);
      const { body, headerLength } = binaryBody({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
        ],
      }, [int32Buffer(a), int32Buffer(b)]);
      const response = await postBytes('/v2/models/simple/infer', body, { 'inference-header-content-length': String(headerLength), 'content-type': 'application/octet-stream' });
      assert.equal(response.status, 200, await response.clone().text());
      assert.equal(response.headers.get('inference-header-content-length'), null);
      const rest = await response.json() as RestInferResponse;
      assert.deepEqual(rest.outputs.map((output) => output.data), [a.map((x, i) => x + (b[i] as number)), a.map((x, i) => x - (b[i] as number))]);
    });

    it('answers every output as binary with binary_data_output, and mixes binary and JSON outputs per output', async () => {
      const a = range(16, (i) => i + 1);
      const b = range(16, () => 2);
      const all = await postJson('/v2/models/simple/infer', { parameters: { binary_data_output: true }, inputs: simpleInputs(a, b) });
      assert.equal(all.status, 200);
      assert.equal(all.headers.get('content-type'), 'application/octet-stream');
      const allAnswer = await readBinaryAnswer(all);
      assert.deepEqual(allAnswer.header.outputs.map((output) => [output.name, output.parameters, output.data]), [
        ['OUTPUT0', { binary_data_size: 64 }, undefined],
        ['OUTPUT1', { binary_data_size: 64 }, undefined],
      ]);
      assert.deepEqual(readInt32(allAnswer.binary.get('OUTPUT0') as Buffer), a.map((x) => x + 2));
      assert.deepEqual(readInt32(allAnswer.binary.get('OUTPUT1') as Buffer), a.map((x) => x - 2));

      const { body, headerLength } = binaryBody({
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], data: b },
        ],
        outputs: [{ name: 'OUTPUT0', parameters: { binary_data: false } }, { name: 'OUTPUT1', parameters: { binary_data: true } }],
      }, [int32Buffer(a)]);
      const mixed = await postBytes('/v2/models/simple/infer', body, { 'inference-header-content-length': String(headerLength) });
      assert.equal(mixed.status, 200, await mixed.clone().text());
      const mixedAnswer = await readBinaryAnswer(mixed);
      assert.deepEqual(mixedAnswer.header.outputs[0], { name: 'OUTPUT0', datatype: 'INT32', shape: [1, 16], data: a.map((x) => x + 2) });
      assert.deepEqual(mixedAnswer.header.outputs[1]?.parameters, { binary_data_size: 64 });
      assert.deepEqual(readInt32(mixedAnswer.binary.get('OUTPUT1') as Buffer), a.map((x) => x - 2));
      assert.deepEqual([...mixedAnswer.binary.keys()], ['OUTPUT1']);
    });

    it('accepts gzip and deflate request bodies', async () => {
      const a = range(16, (i) => i * i);
      const b = range(16, () => 1);
      const json = Buffer.from(JSON.stringify({ inputs: simpleInputs(a, b) }));
      for (const [encoding, body] of [['gzip', gzipSync(json)], ['deflate', deflateSync(json)]] as const) {
        const response = await postBytes('/v2/models/simple/infer', body, { 'content-type': 'application/json', 'content-encoding': encoding });
        assert.equal(response.status, 200, encoding);
        const rest = await response.json() as RestInferResponse;
        assert.deepEqual(rest.outputs[0]?.data, a.map((x) => x + 1), encoding);
      }
    });
  });

  describe('errors', () => {
    it('passes the instance\'s text through for a wrong shape, with 400', async () => {
      const response = await postJson('/v2/models/simple/infer', {
        inputs: [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 15], data: range(15, () => 0) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 15], data: range(15, () => 0) },
        ],
      });
      assert.equal(response.status, 400);
      const grpcError = await client.unary('ModelInfer', inferRequest('simple', [
        { name: 'INPUT0', datatype: 'INT32', shape: [1, 15], raw: int32Buffer(range(15, () => 0)) },
        { name: 'INPUT1', datatype: 'INT32', shape: [1, 15], raw: int32Buffer(range(15, () => 0)) },
      ])).then(() => null, (error: { details: string }) => error.details);
      const message = await errorOf(response);
      assert.match(message, /unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[1,15\]/);
      assert.equal(message, grpcError);
    });

    it('answers 400 for malformed JSON, naming the parse failure', async () => {
      const response = await postBytes('/v2/models/simple/infer', Buffer.from('{"inputs": [ {"name": "INPUT0",'), { 'content-type': 'application/json' });
      assert.equal(response.status, 400);
      assert.match(await errorOf(response), /^failed to parse the request JSON buffer: /);
    });

    it('answers 400 naming the input and the rule for wrong data counts, datatypes and values', async () => {
      const cases: [unknown, RegExp][] = [
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], data: range(15, () => 0) }] }, /input 'INPUT0' has 15 values in 'data' but its shape \[1,16\] needs 16/],
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT33', shape: [1, 16], data: [] }] }, /input 'INPUT0': unknown datatype 'INT33'/],
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 2], data: [1, 'x'] }] }, /input 'INPUT0' \(INT32\) value #1 is the string "x": expected an integer/],
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 2], data: [1, 2.5] }] }, /input 'INPUT0' \(INT32\) value #1 is number 2.5: expected an integer/],
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [-1, 16], data: [] }] }, /input 'INPUT0': 'shape' must be an array of non-negative integers/],
        [{ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1] }] }, /input 'INPUT0' has neither 'data' nor a binary_data_size parameter/],
        [{ inputs: 'INPUT0' }, /'inputs' array/],
        [{ inputs: [], parameters: { priority: [1] } }, /parameter 'priority' of the request must be a boolean, a number or a string, got an array/],
        [{ inputs: [], parameters: { binary_data_output: 'yes' } }, /parameter 'binary_data_output' of the request must be true or false/],
        [{ inputs: [], parameters: { triton_enable_empty_final_response: true } }, /^parameter keys starting with 'triton_' are reserved for Triton usage and should not be specified\.$/],
      ];
      for (const [body, pattern] of cases) {
        const response = await postJson('/v2/models/simple/infer', body);
        assert.equal(response.status, 400, JSON.stringify(body));
        assert.match(await errorOf(response), pattern);
      }
    });

    it('answers 400 when the binary part does not match the binary_data_size parameters', async () => {
      const header = { inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { binary_data_size: 64 } }] };
      const short = binaryBody(header, [Buffer.alloc(10)]);
      const response = await postBytes('/v2/models/simple/infer', short.body, { 'inference-header-content-length': String(short.headerLength) });
      assert.equal(response.status, 400);
      assert.match(await errorOf(response), /input 'INPUT0': binary_data_size 64 runs past the end of the body \(10 binary bytes left/);
      const long = binaryBody(header, [Buffer.alloc(70)]);
      const extra = await postBytes('/v2/models/simple/infer', long.body, { 'inference-header-content-length': String(long.headerLength) });
      assert.equal(extra.status, 400);
      assert.match(await errorOf(extra), /the body has 70 bytes after the JSON header, but the inputs' binary_data_size parameters add up to 64/);
      const bad = await postBytes('/v2/models/simple/infer', long.body, { 'inference-header-content-length': 'lots' });
      assert.equal(bad.status, 400);
      assert.match(await errorOf(bad), /header Inference-Header-Content-Length is 'lots'/);
      const raw = await postBytes('/v2/models/simple/infer', Buffer.alloc(64), { 'inference-header-content-length': '0' });
      assert.equal(raw.status, 501, 'a raw binary request (no JSON header) is not translated');
      assert.match(await errorOf(raw), /Inference-Header-Content-Length 0/);
    });

    it('answers 413 with a JSON error for a body over the limit, also once decompressed', async () => {
      const big = Buffer.alloc(MAX_MESSAGE_BYTES + 1024, 0x20);
      const response = await postBytes('/v2/models/simple/infer', big, { 'content-type': 'application/json' });
      assert.equal(response.status, 413);
      assert.equal(await errorOf(response), `the request body is larger than the limit of ${MAX_MESSAGE_BYTES} bytes (--max-message-bytes)`);
      const bomb = await postBytes('/v2/models/simple/infer', gzipSync(big), { 'content-type': 'application/json', 'content-encoding': 'gzip' });
      assert.equal(bomb.status, 413);
    });

    it('answers 415 for an unknown Content-Encoding and 400 for a bad timeout header', async () => {
      const encoded = await postBytes('/v2/models/simple/infer', Buffer.from('{}'), { 'content-encoding': 'lzma' });
      assert.equal(encoded.status, 415);
      assert.equal(encoded.headers.get('accept-encoding'), 'gzip, deflate');
      assert.match(await errorOf(encoded), /unsupported Content-Encoding 'lzma'/);
      const timeout = await postJson('/v2/models/simple/infer', { inputs: simpleInputs(range(16, () => 0), range(16, () => 0)) }, { 'triage-timeout-ms': 'soon' });
      assert.equal(timeout.status, 400);
      assert.match(await errorOf(timeout), /header Triage-Timeout-Ms is 'soon'/);
    });

    it('answers 405 with Triton\'s text for a known path and the wrong method', async () => {
      const post = await postJson('/v2/models/simple', {});
      assert.equal(post.status, 405);
      assert.equal(post.headers.get('allow'), 'GET');
      assert.deepEqual(await post.json(), { error: 'Method Not Allowed' });
      const getInfer = await get('/v2/models/simple/infer');
      assert.equal(getInfer.status, 405);
      assert.equal(getInfer.headers.get('allow'), 'POST');
    });

    it('answers 501 for shared-memory parameters, which triage does not open', async () => {
      const response = await postJson('/v2/models/simple/infer', {
        inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 16], parameters: { shared_memory_region: 'r' }, data: range(16, () => 0) }],
      });
      assert.equal(response.status, 501);
      assert.match(await errorOf(response), /parameter 'shared_memory_region' of the input 'INPUT0': shared memory is not available/);
    });
  });

  describe('statistics', () => {
    it('answers model statistics as ModelStatistics does, with the counters as JSON numbers', async () => {
      const grpc = await client.unary<{ model_stats: Record<string, unknown>[] }>('ModelStatistics', { name: 'simple', version: '' });
      const response = await get('/v2/models/simple/stats');
      assert.equal(response.status, 200);
      const rest = await response.json() as { model_stats: JsonDocument[] };
      assert.equal(rest.model_stats.length, 1);
      const [stats] = rest.model_stats;
      assert.equal(stats?.['name'], 'simple');
      assert.equal(stats?.['version'], '1');
      assert.equal(typeof stats?.['inference_count'], 'number');
      assert.ok((stats?.['inference_count'] as number) >= 5, 'the inferences of the tests above are counted');
      assert.equal(stats?.['inference_count'], Number(grpc.model_stats[0]?.['inference_count']));
      assert.equal(typeof stats?.['inference_stats'].success.ns, 'number');
      assert.equal(typeof stats?.['batch_stats'][0].batch_size, 'number');
      const versioned = await (await get('/v2/models/simple/versions/1/stats')).json() as { model_stats: { name: string }[] };
      assert.deepEqual(versioned.model_stats.map((entry) => entry.name), ['simple']);
      const all = await (await get('/v2/models/stats')).json() as { model_stats: { name: string }[] };
      assert.deepEqual(all.model_stats.map((entry) => entry.name).sort(), ['breast_cancer_mlp', 'identity_fp32', 'simple']);
    });
  });
});
