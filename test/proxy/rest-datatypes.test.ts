import { sharedRedisUrl, TEST_ADMIN_KEY, TEST_JOBS_KEY, uniquePrefix } from '../support/test-redis';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { parseSettings } from '../../src/config/parse-settings';
import { SERVE_SETTINGS } from '../../src/config/serve-settings';
import { startTriage, type RunningTriage, type ServeSettings } from '../../src/main';
import { silentLogger } from '../../src/observability/logger';
import { serializeBytesElements } from '../../src/protocol/bytes-tensor';
import { TempRepository } from '../support/temp-repository';

interface RestOutput {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, unknown>;
  data?: unknown[];
}

const MODEL = 'identity_four';

/** One identity model with a BYTES, a BOOL, an INT64 and an FP16 input, each copied to its output. */
const CONFIG = `name: "${MODEL}"
backend: "identity"
max_batch_size: 0
input [
  { name: "TEXT" data_type: TYPE_STRING dims: [ -1 ] },
  { name: "FLAGS" data_type: TYPE_BOOL dims: [ -1 ] },
  { name: "COUNTS" data_type: TYPE_INT64 dims: [ -1 ] },
  { name: "HALVES" data_type: TYPE_FP16 dims: [ -1 ] }
]
output [
  { name: "TEXT_OUT" data_type: TYPE_STRING dims: [ -1 ] },
  { name: "FLAGS_OUT" data_type: TYPE_BOOL dims: [ -1 ] },
  { name: "COUNTS_OUT" data_type: TYPE_INT64 dims: [ -1 ] },
  { name: "HALVES_OUT" data_type: TYPE_FP16 dims: [ -1 ] }
]
`;

/** A model whose lone request waits its 2 s queue delay: long enough to time out or walk away. */
const SLOW_MODEL = 'identity_slow';
const SLOW_CONFIG = `name: "${SLOW_MODEL}"
backend: "identity"
max_batch_size: 8
input [ { name: "INPUT0" data_type: TYPE_INT32 dims: [ 1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_INT32 dims: [ 1 ] } ]
dynamic_batching { max_queue_delay_microseconds: 2000000 }
`;

function int64Buffer(values: readonly bigint[]): Buffer {
  const out = Buffer.alloc(values.length * 8);
  values.forEach((value, index) => out.writeBigInt64LE(value, index * 8));
  return out;
}

function uint16Buffer(values: readonly number[]): Buffer {
  const out = Buffer.alloc(values.length * 2);
  values.forEach((value, index) => out.writeUInt16LE(value, index * 2));
  return out;
}

describe('triage serve: KServe v2 REST through identity models: BYTES, BOOL, INT64, FP16, deadlines', function () {
  this.timeout(30_000);
  let repository: TempRepository;
  let triage: RunningTriage;
  let url: string;

  const post = (body: string | Buffer, headers: Record<string, string> = {}): Promise<Response> =>
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${TEST_ADMIN_KEY}`, ...headers }, body });

  /** Posts a binary request; answers the JSON header and the binary outputs by name. */
  async function postBinary(header: unknown, tensors: readonly Buffer[]): Promise<{ outputs: RestOutput[]; binary: Map<string, Buffer> }> {
    const json = Buffer.from(JSON.stringify(header));
    const response = await post(Buffer.concat([json, ...tensors]), { 'inference-header-content-length': String(json.length), 'content-type': 'application/octet-stream' });
    const body = Buffer.from(await response.arrayBuffer());
    assert.equal(response.status, 200, body.toString());
    const lengthHeader = response.headers.get('inference-header-content-length');
    const headerLength = lengthHeader === null ? body.length : Number(lengthHeader);
    const outputs = (JSON.parse(body.subarray(0, headerLength).toString()) as { outputs: RestOutput[] }).outputs;
    const binary = new Map<string, Buffer>();
    let offset = headerLength;
    for (const output of outputs) {
      const size = output.parameters?.['binary_data_size'];
      if (typeof size !== 'number') continue;
      binary.set(output.name, body.subarray(offset, offset + size));
      offset += size;
    }
    assert.equal(offset, body.length);
    return { outputs, binary };
  }

  before(async () => {
    repository = new TempRepository().writeModel(MODEL, CONFIG).writeModel(SLOW_MODEL, SLOW_CONFIG);
    const settings: ServeSettings = {
      ...parseSettings(SERVE_SETTINGS, new Map(), {}),
      listenAddress: '127.0.0.1',
      grpcPort: 0,
      httpPort: 0,
      tritonUrls: { kind: 'embedded' },
      modelRepository: repository.path,
      probeIntervalMs: 200,
      probeTimeoutMs: 1_000,
      shutdownGraceMs: 1_000,
      redisUrl: await sharedRedisUrl(),
      redisPrefix: uniquePrefix(),
      adminKey: TEST_ADMIN_KEY,
      jobsKeys: [TEST_JOBS_KEY],
    };
    triage = await startTriage(settings, silentLogger());
    url = `http://127.0.0.1:${triage.httpPort}/v2/models/${MODEL}/infer`;
  });

  after(async () => {
    await triage?.stop();
    repository?.remove();
  });

  it('carries JSON values of every kind there and back: strings, booleans, exact 64-bit integers, half floats', async () => {
    // 9007199254740993 (2^53 + 1) and INT64's minimum only travel exactly as decimal strings.
    const response = await post(JSON.stringify({
      inputs: [
        { name: 'TEXT', datatype: 'BYTES', shape: [3], data: ['hello', '', 'ünïcödé ✓'] },
        { name: 'FLAGS', datatype: 'BOOL', shape: [3], data: [true, false, true] },
        { name: 'COUNTS', datatype: 'INT64', shape: [4], data: [1, -2, '9007199254740993', '-9223372036854775808'] },
        { name: 'HALVES', datatype: 'FP16', shape: [4], data: [1.5, -2, 0.333, 65504] },
      ],
    }));
    assert.equal(response.status, 200, await response.clone().text());
    const outputs = (await response.json() as { outputs: RestOutput[] }).outputs;
    assert.deepEqual(outputs, [
      { name: 'TEXT_OUT', datatype: 'BYTES', shape: [3], data: ['hello', '', 'ünïcödé ✓'] },
      { name: 'FLAGS_OUT', datatype: 'BOOL', shape: [3], data: [true, false, true] },
      { name: 'COUNTS_OUT', datatype: 'INT64', shape: [4], data: [1, -2, '9007199254740993', '-9223372036854775808'] },
      // 0.333 is stored as the nearest FP16, 0.333007812...
      { name: 'HALVES_OUT', datatype: 'FP16', shape: [4], data: [1.5, -2, 0.33300781250, 65504] },
    ]);
  });

  it('carries binary tensors byte for byte both ways, including non-UTF-8 BYTES and NaN payloads', async () => {
    const text = serializeBytesElements([Buffer.from([0xff, 0x00, 0xfe]), Buffer.alloc(0), Buffer.from('ok')]);
    const flags = Buffer.from([1, 0, 0, 1]);
    const counts = int64Buffer([2n ** 62n + 1n, -(2n ** 63n), 0n]);
    const halves = uint16Buffer([0x3c00, 0x7e01, 0xfc00]);
    const { outputs, binary } = await postBinary({
      parameters: { binary_data_output: true },
      inputs: [
        { name: 'TEXT', datatype: 'BYTES', shape: [3], parameters: { binary_data_size: text.length } },
        { name: 'FLAGS', datatype: 'BOOL', shape: [4], parameters: { binary_data_size: 4 } },
        { name: 'COUNTS', datatype: 'INT64', shape: [3], parameters: { binary_data_size: 24 } },
        { name: 'HALVES', datatype: 'FP16', shape: [3], parameters: { binary_data_size: 6 } },
      ],
    }, [text, flags, counts, halves]);
    assert.deepEqual(outputs.map((output) => [output.name, output.shape, output.parameters]), [
      ['TEXT_OUT', [3], { binary_data_size: text.length }],
      ['FLAGS_OUT', [4], { binary_data_size: 4 }],
      ['COUNTS_OUT', [3], { binary_data_size: 24 }],
      ['HALVES_OUT', [3], { binary_data_size: 6 }],
    ]);
    assert.deepEqual(binary.get('TEXT_OUT'), text);
    assert.deepEqual(binary.get('FLAGS_OUT'), flags);
    assert.deepEqual(binary.get('COUNTS_OUT'), counts);
    assert.deepEqual(binary.get('HALVES_OUT'), halves);
  });

  it('answers binary inputs as JSON, and JSON inputs as binary, per output', async () => {
    const counts = int64Buffer([2n ** 62n, -5n]);
    const { outputs, binary } = await postBinary({
      inputs: [
        { name: 'TEXT', datatype: 'BYTES', shape: [2], data: ['a', 'bc'] },
        { name: 'FLAGS', datatype: 'BOOL', shape: [1], data: [false] },
        { name: 'COUNTS', datatype: 'INT64', shape: [2], parameters: { binary_data_size: 16 } },
        { name: 'HALVES', datatype: 'FP16', shape: [1], parameters: { binary_data_size: 2 } },
      ],
      outputs: [
        { name: 'COUNTS_OUT' },
        { name: 'TEXT_OUT', parameters: { binary_data: true } },
        { name: 'HALVES_OUT' },
      ],
    }, [counts, uint16Buffer([0xc000])]);
    assert.deepEqual(outputs, [
      { name: 'COUNTS_OUT', datatype: 'INT64', shape: [2], data: ['4611686018427387904', -5] },
      { name: 'TEXT_OUT', datatype: 'BYTES', shape: [2], parameters: { binary_data_size: 11 } },
      { name: 'HALVES_OUT', datatype: 'FP16', shape: [1], data: [-2] },
    ], 'only the requested outputs, in the order asked for');
    assert.deepEqual(binary.get('TEXT_OUT'), serializeBytesElements([Buffer.from('a'), Buffer.from('bc')]));
  });

  it('answers 400 naming the input and the rule for values that do not fit the datatype', async () => {
    const input = (name: string, datatype: string, data: string): string => `{"inputs":[{"name":"${name}","datatype":"${datatype}","shape":[1],"data":[${data}]}]}`;
    const cases: [string, RegExp][] = [
      [input('COUNTS', 'INT64', '9007199254740993'), /input 'COUNTS' \(INT64\) value #0 is number 9007199254740992: a JSON number beyond ±2\^53 is not exact; send it as a decimal string or as binary data/],
      [input('COUNTS', 'INT64', '"9223372036854775808"'), /input 'COUNTS' \(INT64\) value #0 is the string "9223372036854775808": out of range \[-9223372036854775808, 9223372036854775807\]/],
      [input('FLAGS', 'BOOL', '1'), /input 'FLAGS' \(BOOL\) value #0 is number 1: expected true or false/],
      [input('TEXT', 'BYTES', '42'), /input 'TEXT' \(BYTES\) value #0 is number 42: expected a string/],
      [input('HALVES', 'FP16', '"1.5"'), /input 'HALVES' \(FP16\) value #0 is the string "1.5": expected a number/],
      [input('FLAGS', 'UINT8', '256'), /input 'FLAGS' \(UINT8\) value #0 is number 256: out of range \[0, 255\]/],
    ];
    for (const [body, pattern] of cases) {
      const response = await post(body);
      assert.equal(response.status, 400, body);
      assert.match((await response.json() as { error: string }).error, pattern);
    }
  });

  it('passes the instance\'s text through for a datatype the model does not expect', async () => {
    const response = await post(JSON.stringify({
      inputs: [
        { name: 'TEXT', datatype: 'BYTES', shape: [1], data: ['x'] },
        { name: 'FLAGS', datatype: 'INT8', shape: [1], data: [1] },
        { name: 'COUNTS', datatype: 'INT64', shape: [1], data: [1] },
        { name: 'HALVES', datatype: 'FP16', shape: [1], data: [1] },
      ],
    }));
    assert.equal(response.status, 400);
    assert.equal((await response.json() as { error: string }).error,
      `[request id: <id_unknown>] inference input 'FLAGS' data-type is 'INT8', but model '${MODEL}' expects 'BOOL'`);
  });

  describe('deadlines and clients that leave', () => {
    const slowUrl = (): string => url.replace(MODEL, SLOW_MODEL);
    const slowBody = JSON.stringify({ inputs: [{ name: 'INPUT0', datatype: 'INT32', shape: [1, 1], data: [7] }] });

    it('answers 504 when the Triage-Timeout-Ms header passes before the instance answers', async () => {
      const started = Date.now();
      const response = await fetch(slowUrl(), { method: 'POST', headers: { 'triage-timeout-ms': '200', authorization: `Bearer ${TEST_ADMIN_KEY}` }, body: slowBody });
      assert.equal(response.status, 504);
      assert.match((await response.json() as { error: string }).error, /Deadline exceeded/i);
      assert.ok(Date.now() - started < 1_500, 'answered at the deadline, not when the instance was done');
    });

    it('cancels the instance call when the client goes away', async () => {
      const controller = new AbortController();
      const request = fetch(slowUrl(), { method: 'POST', headers: { authorization: `Bearer ${TEST_ADMIN_KEY}` }, body: slowBody, signal: controller.signal }).catch((error: unknown) => error);
      const instance = triage.pool.list()[0];
      assert.ok(instance !== undefined);
      await waitFor(() => instance.outstanding === 1, 'the call reaches the instance');
      controller.abort();
      assert.ok(await request instanceof Error);
      await waitFor(() => instance.outstanding === 0, 'the instance call ends long before the 2 s queue delay');
    });
  });
});

async function waitFor(condition: () => boolean, what: string, timeoutMs = 1_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > until) throw new Error(`timed out waiting until ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
