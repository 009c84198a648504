import { Metadata, status, type ClientDuplexStream, type ClientUnaryCall, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { projectRoot } from '../../src/protocol/project-paths';
import { grpcError, type TritonTestClient } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { countsDelta, modelStatistics, statsCounts, type ModelStatsMessage, type StatsCounts } from '../support/model-statistics';
import { TempRepository } from '../support/temp-repository';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, unknown>;
  outputs: { name: string; datatype: string; shape: string[]; parameters: Record<string, unknown> }[];
  raw_output_contents: Buffer[];
}

interface StreamResponse {
  error_message: string;
  infer_response: InferResponse | null;
}

const MiB = 1024 * 1024;
const SAMPLE_MODELS = ['simple', 'identity_fp32', 'breast_cancer_mlp'];
/** identity_slow holds a lone request in its queue for this long (dynamic batching, no preferred size). */
const SLOW_DELAY_MS = 1000;

const IDENTITY_CONFIG = (name: string, batching: string): string => `name: "${name}"
backend: "identity"
max_batch_size: ${batching === '' ? 0 : 8}
input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
output [ { name: "OUTPUT0" data_type: TYPE_FP32 dims: [ -1 ] } ]
${batching}
`;

const range = <T = number>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

const holdout = JSON.parse(readFileSync(join(projectRoot(), 'test/fixtures/breast-cancer-holdout.json'), 'utf8')) as { cases: { features: number[] }[] };

function simpleRequest(id: string, a: number[], b: number[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
  ], { id, ...extra });
}

function identityRequest(model: string, id: string, data: Buffer, batched = false): Record<string, unknown> {
  const elements = data.length / 4;
  return inferRequest(model, [{ name: 'INPUT0', datatype: 'FP32', shape: batched ? [1, elements] : [elements], raw: data }], { id });
}

function breastCancerRequest(id: string, rows: number[][]): Record<string, unknown> {
  return inferRequest('breast_cancer_mlp', [{ name: 'features', datatype: 'FP32', shape: [rows.length, 30], raw: float32Buffer(rows.flat()) }], { id });
}

/** One request per sample model, with an id. */
function sampleRequests(tag: string): Record<string, Record<string, unknown>> {
  return {
    simple: simpleRequest(`${tag}-simple`, range(16, (i) => i * 3 - 7), range(16, (i) => 1000 - i * i)),
    identity_fp32: identityRequest('identity_fp32', `${tag}-identity`, float32Buffer([0.5, -1.25, 3e38, -0, Number.NaN, 42])),
    breast_cancer_mlp: breastCancerRequest(`${tag}-bc`, holdout.cases.slice(0, 5).map((c) => c.features)),
  };
}

/**
 * `elements` FP32 values with a position-dependent bit pattern (bit 30 cleared so every
 * value is finite): a dropped, repeated or shifted chunk anywhere changes the bytes.
 */
function patternedFp32(elements: number): Buffer {
  const words = new Uint32Array(elements);
  for (let i = 0; i < elements; i++) words[i] = (Math.imul(i + 1, 0x9e3779b1) ^ (i >>> 11)) & 0xbfffffff;
  return Buffer.from(words.buffer);
}

/** The parts of a response that must not change between a direct call and one through triage. */
function assertSameInferResponse(through: InferResponse, direct: InferResponse, what: string): void {
  assert.equal(through.model_name, direct.model_name, what);
  assert.equal(through.model_version, direct.model_version, what);
  assert.equal(through.id, direct.id, what);
  assert.deepEqual(through.parameters, direct.parameters, what);
  assert.deepEqual(through.outputs, direct.outputs, `${what}: outputs (name, datatype, shape)`);
  assert.equal(through.raw_output_contents.length, direct.raw_output_contents.length, what);
  through.raw_output_contents.forEach((bytes, index) => {
    assert.ok(bytes.equals(direct.raw_output_contents[index] as Buffer), `${what}: raw_output_contents[${index}] differs`);
  });
}

/** A unary ModelInfer whose call can be cancelled. */
function cancellableInfer(client: TritonTestClient, request: Record<string, unknown>): { call: ClientUnaryCall; done: Promise<InferResponse> } {
  const method = (client.inference as unknown as Record<string, (...args: unknown[]) => ClientUnaryCall>)['ModelInfer'] as (...args: unknown[]) => ClientUnaryCall;
  let call: ClientUnaryCall | undefined;
  const done = new Promise<InferResponse>((resolve, reject) => {
    call = method.call(client.inference, request, client.withKey(), { deadline: Date.now() + 20_000 },
      (error: ServiceError | null, response: InferResponse) => (error === null ? resolve(response) : reject(error)));
  });
  return { call: call as ClientUnaryCall, done };
}

/** Sends requests on one ModelStreamInfer stream, half-closes, and collects every response and the final status. */
function runStream(client: TritonTestClient, requests: readonly Record<string, unknown>[]): Promise<{ responses: StreamResponse[]; status: StatusObject }> {
  const method = (client.inference as unknown as Record<string, (metadata: Metadata, options: unknown) => ClientDuplexStream<unknown, StreamResponse>>)['ModelStreamInfer'];
  assert.ok(method !== undefined);
  const call = method.call(client.inference, client.withKey(), { deadline: Date.now() + 20_000 });
  const responses: StreamResponse[] = [];
  return new Promise((resolve) => {
    let final: StatusObject | null = null;
    let closed = false;
    const settle = (): void => { if (final !== null && closed) resolve({ responses, status: final }); };
    call.on('data', (response: StreamResponse) => responses.push(response));
    call.on('status', (result: StatusObject) => { final = result; settle(); });
    call.on('end', () => { closed = true; settle(); });
    call.on('error', () => { closed = true; settle(); });
    for (const request of requests) call.write(request);
    call.end();
  });
}

/** Runs `count` calls, at most `concurrency` at a time. */
async function runConcurrently(count: number, concurrency: number, call: (index: number) => Promise<unknown>): Promise<void> {
  let next = 0;
  await Promise.all(range(concurrency, () => 0).map(async () => {
    while (next < count) await call(next++);
  }));
}

describe('gateway: triage routing over three local-triton instances', function () {
  this.timeout(30_000);
  const repositories: TempRepository[] = [];
  const instances: LocalTritonFixture[] = [];
  let gateway: TriageFixture;

  before(async () => {
    for (let index = 0; index < 3; index++) {
      repositories.push(new TempRepository()
        .copySample(...SAMPLE_MODELS)
        .writeModel('identity_solo', IDENTITY_CONFIG('identity_solo', ''))
        .writeModel('identity_slow', IDENTITY_CONFIG('identity_slow', `dynamic_batching { max_queue_delay_microseconds: ${SLOW_DELAY_MS * 1000} }`)));
    }
    // identity_solo is in every repository but loaded on none: a test loads it on one instance.
    const started = await Promise.allSettled(repositories.map((repository) => startLocalTritonFixture({
      modelRepository: repository.path,
      metricsPort: -1,
      modelControlMode: 'explicit',
      loadModels: [...SAMPLE_MODELS, 'identity_slow'],
    })));
    for (const result of started) if (result.status === 'fulfilled') instances.push(result.value);
    const failed = started.find((result) => result.status === 'rejected');
    if (failed !== undefined) throw (failed as PromiseRejectedResult).reason;
    gateway = await startTriageFixture(instances.map((instance) => instance.address));
  });

  after(async () => {
    await gateway?.stop();
    await Promise.all(instances.map((instance) => instance.stop()));
    for (const repository of repositories) repository.remove();
  });

  const countsOnEach = (model: string): Promise<StatsCounts[]> => Promise.all(instances.map((instance) => statsCounts(instance.client, model)));
  const deltas = (before: StatsCounts[], after: StatsCounts[]): StatsCounts[] => after.map((counts, index) => countsDelta(before[index] as StatsCounts, counts));
  const pendingOn = (model: string): number[] => instances.map((instance) => instance.server.models.resolve(model, '').scheduler.pendingCount);

  it('all three instances are healthy in triage\'s pool and serve the sample models', () => {
    const pool = gateway.triage.pool.list();
    assert.deepEqual(pool.map((instance) => [instance.address, instance.health]).sort(), instances.map((instance) => [instance.address, 'healthy']).sort());
    for (const model of SAMPLE_MODELS) assert.equal(gateway.triage.pool.candidates(model, '').length, 3, model);
  });

  it('unary ModelInfer through triage equals every instance\'s direct answer, byte for byte, for every sample model, with the id echoed', async () => {
    for (const round of range(4, (i) => i)) {
      const requests = sampleRequests(`unary-${round}`);
      for (const model of SAMPLE_MODELS) {
        const request = requests[model] as Record<string, unknown>;
        const through = await gateway.client.unary<InferResponse>('ModelInfer', request);
        assert.equal(through.id, request['id'], `${model}: the request id is echoed`);
        assert.equal(through.model_name, model);
        for (const [index, instance] of instances.entries()) {
          const direct = await instance.client.unary<InferResponse>('ModelInfer', request);
          assertSameInferResponse(through, direct, `${model} round ${round} vs instance ${index}`);
        }
      }
    }
    // And the answer is the right one, not just the same one.
    const simple = await gateway.client.unary<InferResponse>('ModelInfer', simpleRequest('values', range(16, (i) => i), range(16, () => 5)));
    assert.deepEqual(simple.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', 'INT32', [1, 16]], ['OUTPUT1', 'INT32', [1, 16]]]);
    assert.deepEqual(readInt32(simple.raw_output_contents[0] as Buffer), range(16, (i) => i + 5));
    assert.deepEqual(readInt32(simple.raw_output_contents[1] as Buffer), range(16, (i) => i - 5));
  });

  it('ModelStreamInfer through triage equals a direct stream: mixed models and in-band errors on one stream', async () => {
    const first = sampleRequests('stream-a');
    const second = sampleRequests('stream-b');
    const badDatatype = simpleRequest('stream-bad', range(16, () => 1), range(16, () => 2));
    (badDatatype['inputs'] as Record<string, unknown>[])[0] = { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] };
    const requests = [
      first['simple'], first['identity_fp32'], badDatatype, first['breast_cancer_mlp'],
      identityRequest('no_such_model', 'stream-unknown', float32Buffer([1])),
      second['simple'], second['breast_cancer_mlp'], second['identity_fp32'],
    ] as Record<string, unknown>[];
    const direct = await runStream(instances[0]?.client as TritonTestClient, requests);
    const through = await runStream(gateway.client, requests);
    assert.equal(direct.status.code, status.OK, direct.status.details);
    assert.equal(through.status.code, status.OK, through.status.details);
    assert.equal(through.responses.length, requests.length, 'one response per request');
    assert.equal(direct.responses.length, requests.length);

    const errors = (responses: StreamResponse[]): string[] => responses.filter((r) => r.infer_response === null).map((r) => r.error_message).sort();
    const successes = (responses: StreamResponse[]): InferResponse[] =>
      responses.filter((r) => r.infer_response !== null).map((r) => r.infer_response as InferResponse).sort((a, b) => a.id.localeCompare(b.id));
    assert.deepEqual(errors(through.responses), errors(direct.responses));
    assert.equal(errors(through.responses).length, 2, 'two in-band errors');
    assert.ok(errors(through.responses).some((message) => message.includes("Request for unknown model: 'no_such_model' is not found")), errors(through.responses).join(' | '));
    const throughOk = successes(through.responses);
    const directOk = successes(direct.responses);
    assert.deepEqual(throughOk.map((r) => r.id), ['stream-a-bc', 'stream-a-identity', 'stream-a-simple', 'stream-b-bc', 'stream-b-identity', 'stream-b-simple']);
    throughOk.forEach((response, index) => assertSameInferResponse(response, directOk[index] as InferResponse, `stream response ${response.id}`));
  });

  it('traffic for a model every instance serves spreads over all three', async () => {
    const before = await countsOnEach('simple');
    await runConcurrently(45, 3, (index) => gateway.client.unary('ModelInfer', simpleRequest(`spread-${index}`, range(16, () => index), range(16, () => 1))));
    const moved = deltas(before, await countsOnEach('simple'));
    assert.equal(moved.reduce((sum, d) => sum + d.inferences, 0), 45, 'every request ran exactly once');
    moved.forEach((d, index) => assert.ok(d.executions > 0, `instance ${index} executed nothing: ${JSON.stringify(moved)}`));
  });

  it('a model loaded on only one instance is routed only there, and triage\'s statistics of it are that instance\'s', async () => {
    const chosen = 1;
    const others = [0, 2];
    const soloReady = await gateway.client.unary<{ ready: boolean }>('ModelReady', { name: 'identity_solo', version: '' });
    assert.equal(soloReady.ready, false, 'not ready anywhere before the load');
    await (instances[chosen] as LocalTritonFixture).client.unary('RepositoryModelLoad', { model_name: 'identity_solo' });

    // triage learns of the load on demand (refreshing its model index), not only at the next probe.
    const calls = await Promise.all(range(12, (index) => gateway.client.unary<InferResponse>('ModelInfer',
      identityRequest('identity_solo', `solo-${index}`, float32Buffer([index, -index])))));
    calls.forEach((response, index) => assert.equal(response.id, `solo-${index}`));
    assert.equal((await statsCounts((instances[chosen] as LocalTritonFixture).client, 'identity_solo')).inferences, 12, 'the one instance with the model ran all 12');
    for (const other of others) {
      const refused = await grpcError(modelStatistics((instances[other] as LocalTritonFixture).client, 'identity_solo'));
      assert.equal(refused.code, status.NOT_FOUND, `instance ${other} has not loaded identity_solo, so it served none of it`);
    }
    assert.deepEqual(gateway.triage.pool.candidates('identity_solo', '').map((instance) => instance.address), [instances[chosen]?.address]);

    const direct = await modelStatistics((instances[chosen] as LocalTritonFixture).client, 'identity_solo');
    assert.deepEqual(await modelStatistics(gateway.client, 'identity_solo'), direct);
    assert.equal((await gateway.client.unary<{ ready: boolean }>('ModelReady', { name: 'identity_solo', version: '' })).ready, true);
  });

  it('triage\'s ModelStatistics of a model (and of all models) is the sum over the instances', async () => {
    await runConcurrently(12, 4, (index) => gateway.client.unary('ModelInfer', (sampleRequests(`stats-${index}`) as Record<string, Record<string, unknown>>)[SAMPLE_MODELS[index % 3] as string]));
    const perInstance = await Promise.all(instances.map((instance) => modelStatistics(instance.client, '')));
    const expected = sumStatistics(perInstance);
    const bySimple = await modelStatistics(gateway.client, 'simple');
    assert.deepEqual(bySimple.map(comparable), expected.filter((stats) => stats.name === 'simple'));
    const all = await modelStatistics(gateway.client, '');
    assert.deepEqual(all.map(comparable), expected);
    assert.deepEqual(all.map((stats) => stats.name).sort(), ['breast_cancer_mlp', 'identity_fp32', 'identity_slow', 'identity_solo', 'simple']);
    // Nothing ran meanwhile: the instances' figures did not move, so the comparison was of one moment.
    assert.deepEqual(await Promise.all(instances.map((instance) => modelStatistics(instance.client, ''))), perInstance);
    const simpleTotal = Number(bySimple[0]?.inference_count);
    assert.ok(simpleTotal > 45, `simple's total ${simpleTotal} covers the traffic of the earlier tests`);
  });

  it('sequences stick to one instance until sequence_end; a new sequence, even with the same id, may land elsewhere', async () => {
    // Background load on another model keeps the instances' outstanding counts changing,
    // so least-loaded routing would scatter a sequence that did not stick.
    let loading = true;
    const load = Promise.all(range(3, (worker) => (async () => {
      for (let index = 0; loading; index++) await gateway.client.unary('ModelInfer', identityRequest('identity_fp32', `load-${worker}-${index}`, float32Buffer(range(64, (i) => i))));
    })()));
    const landings: number[] = [];
    try {
      for (let round = 0; round < 16; round++) {
        // Even rounds reuse one id (a new sequence after the previous one ended); odd rounds use fresh ids.
        const id = round % 2 === 0 ? 7001 : 8000 + round;
        const before = await countsOnEach('simple');
        const length = 5;
        for (let step = 0; step < length; step++) {
          const parameters: Record<string, unknown> = { sequence_id: { int64_param: String(id) } };
          if (step === 0) parameters['sequence_start'] = { bool_param: true };
          if (step === length - 1) parameters['sequence_end'] = { bool_param: true };
          await gateway.client.unary('ModelInfer', simpleRequest(`seq-${round}-${step}`, range(16, () => step), range(16, () => round), { parameters }));
        }
        const moved = deltas(before, await countsOnEach('simple')).map((d) => d.inferences);
        const holders = moved.flatMap((count, index) => (count > 0 ? [index] : []));
        assert.equal(holders.length, 1, `sequence ${id} (round ${round}) ran on instances ${JSON.stringify(moved)}`);
        assert.equal(moved[holders[0] as number], length);
        landings.push(holders[0] as number);
      }
    } finally {
      loading = false;
      await load;
    }
    const reused = landings.filter((_, round) => round % 2 === 0);
    assert.ok(new Set(reused).size > 1, `every new sequence with id 7001 went to instance ${reused[0]}: sequence_end did not release it`);
    assert.ok(new Set(landings).size > 1, `all 16 sequences landed on instance ${landings[0]}`);
    assert.equal(gateway.triage.router.activeSequences, 0, 'every sequence ended with sequence_end, so triage holds none');
  });

  it('an unknown model or version is NOT_FOUND with Triton\'s text, as the instance says', async () => {
    const unknownModel = identityRequest('no_such_model', 'nf-1', float32Buffer([1]));
    const throughModel = await grpcError(gateway.client.unary('ModelInfer', unknownModel));
    const directModel = await grpcError((instances[0] as LocalTritonFixture).client.unary('ModelInfer', unknownModel));
    assert.equal(throughModel.code, status.NOT_FOUND);
    assert.equal(throughModel.details, "Request for unknown model: 'no_such_model' is not found");
    assert.equal(throughModel.details, directModel.details);

    const unknownVersion = { ...simpleRequest('nf-2', range(16, () => 0), range(16, () => 0)), model_version: '7' };
    const throughVersion = await grpcError(gateway.client.unary('ModelInfer', unknownVersion));
    const directVersion = await grpcError((instances[0] as LocalTritonFixture).client.unary('ModelInfer', unknownVersion));
    assert.equal(throughVersion.code, status.NOT_FOUND);
    assert.equal(throughVersion.details, directVersion.details);
    assert.equal(throughVersion.details, "Request for unknown model: 'simple' version 7 is not found");

    for (const method of ['ModelMetadata', 'ModelConfig']) {
      const refused = await grpcError(gateway.client.unary(method, { name: 'no_such_model', version: '' }));
      assert.equal(refused.code, status.NOT_FOUND, method);
      assert.equal(refused.details, "Request for unknown model: 'no_such_model' is not found", method);
    }
  });

  it('ModelMetadata, ModelConfig and ModelReady through triage equal the instance\'s; ModelReady of an unknown model is false', async () => {
    for (const model of SAMPLE_MODELS) {
      for (const method of ['ModelMetadata', 'ModelConfig', 'ModelReady']) {
        const request = { name: model, version: '' };
        const through = await gateway.client.unary(method, request);
        for (const instance of instances) assert.deepEqual(through, await instance.client.unary(method, request), `${method} ${model}`);
      }
      assert.equal((await gateway.client.unary<{ ready: boolean }>('ModelReady', { name: model, version: '1' })).ready, true, model);
    }
    assert.deepEqual(await gateway.client.unary('ModelReady', { name: 'no_such_model', version: '' }), { ready: false });
    assert.deepEqual(await gateway.client.unary('ModelReady', { name: 'simple', version: '9' }), { ready: false });
    const config = await gateway.client.unary<{ config: { name: string; max_batch_size: number } }>('ModelConfig', { name: 'simple', version: '' });
    assert.equal(config.config.name, 'simple');
    assert.equal(config.config.max_batch_size, 8);
  });

  it('ServerMetadata names triage; ServerLive and ServerReady are true', async () => {
    const metadata = await gateway.client.unary<{ name: string; version: string; extensions: string[] }>('ServerMetadata', {});
    assert.equal(metadata.name, 'triage');
    assert.ok(metadata.version !== '');
    assert.ok(!metadata.extensions.includes('model_repository'), `extensions ${metadata.extensions.join(',')} advertise the closed repository API`);
    assert.deepEqual(await gateway.client.unary('ServerLive', {}), { live: true });
    assert.deepEqual(await gateway.client.unary('ServerReady', {}), { ready: true });
  });

  it('the repository RPCs are PERMISSION_DENIED pointing at the admin API; shared-memory RPCs are UNIMPLEMENTED', async () => {
    for (const [method, request] of [
      ['RepositoryIndex', { repository_name: '', ready: false }],
      ['RepositoryModelLoad', { model_name: 'simple' }],
      ['RepositoryModelUnload', { model_name: 'simple' }],
    ] as const) {
      const refused = await grpcError(gateway.client.unary(method, request));
      assert.equal(refused.code, status.PERMISSION_DENIED, method);
      assert.match(refused.details, /admin API/, method);
    }
    assert.equal((await gateway.client.unary<{ ready: boolean }>('ModelReady', { name: 'simple', version: '' })).ready, true, 'the refused unload changed nothing');
    for (const method of ['SystemSharedMemoryStatus', 'SystemSharedMemoryRegister', 'SystemSharedMemoryUnregister', 'CudaSharedMemoryStatus', 'CudaSharedMemoryRegister', 'CudaSharedMemoryUnregister']) {
      const refused = await grpcError(gateway.client.unary(method, {}));
      assert.equal(refused.code, status.UNIMPLEMENTED, method);
      assert.match(refused.details, /shared memory/, method);
    }
  });

  it('a 64 MiB FP32 tensor round-trips through identity_fp32 via triage byte for byte', async () => {
    const elements = 16 * MiB;
    const data = patternedFp32(elements);
    const response = await gateway.client.unary<InferResponse>('ModelInfer', identityRequest('identity_fp32', 'large', data));
    assert.equal(response.id, 'large');
    assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', 'FP32', [elements]]]);
    const output = response.raw_output_contents[0] as Buffer;
    assert.equal(output.length, 64 * MiB);
    assert.ok(output.equals(data), 'the 64 MiB output differs from the input');
  });

  it('deadlines propagate: 1 ms fails at once, and a request that outlives its deadline is dropped by the instance, never executed', async () => {
    const before = await countsOnEach('identity_slow');
    const slow = (id: string): Record<string, unknown> => identityRequest('identity_slow', id, float32Buffer([1, 2, 3]), true);
    const startedMs = Date.now();
    const [tiny, short] = await Promise.all([
      grpcError(gateway.client.unary('ModelInfer', slow('deadline-1ms'), { timeoutMs: 1 })).then((error) => ({ error, elapsedMs: Date.now() - startedMs })),
      (async () => {
        const call = gateway.client.unary('ModelInfer', slow('deadline-300ms'), { timeoutMs: 300 });
        // It reached an instance's queue (where it would wait SLOW_DELAY_MS)...
        while (pendingOn('identity_slow').every((count) => count === 0) && Date.now() - startedMs < 290) await sleep(2);
        const queuedSomewhere = pendingOn('identity_slow').some((count) => count > 0);
        const error = await grpcError(call);
        return { error, elapsedMs: Date.now() - startedMs, queuedSomewhere };
      })(),
    ]);
    assert.equal(tiny.error.code, status.DEADLINE_EXCEEDED, tiny.error.details);
    assert.ok(tiny.elapsedMs < 250, `the 1 ms call took ${tiny.elapsedMs} ms to fail`);
    assert.equal(short.error.code, status.DEADLINE_EXCEEDED, short.error.details);
    assert.ok(short.elapsedMs >= 280 && short.elapsedMs < 800, `the 300 ms call failed after ${short.elapsedMs} ms`);
    assert.ok(short.queuedSomewhere, 'the 300 ms request reached an instance');
    // ...and once the batcher's delay is over, the instance drops it instead of executing it.
    while (pendingOn('identity_slow').some((count) => count > 0)) {
      assert.ok(Date.now() - startedMs < SLOW_DELAY_MS + 3000, `still pending: ${JSON.stringify(pendingOn('identity_slow'))}`);
      await sleep(20);
    }
    const moved = deltas(before, await countsOnEach('identity_slow'));
    assert.equal(moved.reduce((sum, d) => sum + d.executions, 0), 0, `an expired request executed: ${JSON.stringify(moved)}`);
    assert.ok(moved.reduce((sum, d) => sum + d.failures, 0) >= 1, `the instance did not count the expired request as failed: ${JSON.stringify(moved)}`);
  });

  it('a cancelled client call cancels the upstream call: the instance drops the queued request', async () => {
    const before = await countsOnEach('identity_slow');
    const startedMs = Date.now();
    const { call, done } = cancellableInfer(gateway.client, identityRequest('identity_slow', 'cancel-me', float32Buffer([4, 5]), true));
    while (pendingOn('identity_slow').every((count) => count === 0)) {
      assert.ok(Date.now() - startedMs < 2000, 'the request never reached an instance');
      await sleep(2);
    }
    const holder = pendingOn('identity_slow').findIndex((count) => count > 0);
    call.cancel();
    const cancelled = await grpcError(done);
    assert.equal(cancelled.code, status.CANCELLED);
    while (pendingOn('identity_slow')[holder] !== 0) {
      assert.ok(Date.now() - startedMs < SLOW_DELAY_MS + 3000, 'the cancelled request is still pending on its instance');
      await sleep(20);
    }
    const moved = deltas(before, await countsOnEach('identity_slow'));
    assert.deepEqual(moved[holder], { inferences: 0, executions: 0, failures: 1 }, `instance ${holder}: ${JSON.stringify(moved)}`);
    assert.equal(moved.reduce((sum, d) => sum + d.executions, 0), 0);
  });

  describe('with a 4 MiB message limit', () => {
    let small: TriageFixture;
    before(async () => { small = await startTriageFixture(instances.map((instance) => instance.address), { maxMessageBytes: 4 * MiB }); });
    after(async () => { await small?.stop(); });

    it('an 8 MiB request is RESOURCE_EXHAUSTED with a message that says it is too large; smaller ones still pass', async () => {
      const before = await countsOnEach('identity_fp32');
      const refused = await grpcError(small.client.unary('ModelInfer', identityRequest('identity_fp32', 'too-big', Buffer.alloc(8 * MiB))));
      assert.equal(refused.code, status.RESOURCE_EXHAUSTED);
      assert.match(refused.details, /exceeds triage.s limit of 4194304 bytes \(--max-message-bytes/);
      const moved = deltas(before, await countsOnEach('identity_fp32'));
      assert.equal(moved.reduce((sum, d) => sum + d.inferences + d.failures, 0), 0, 'the refused request reached no instance');
      const data = patternedFp32(MiB / 4);
      const response = await small.client.unary<InferResponse>('ModelInfer', identityRequest('identity_fp32', 'fits', data));
      assert.ok((response.raw_output_contents[0] as Buffer).equals(data));
    });
  });
});

/** The fields of a statistics entry that a sum must reproduce (memory_usage and response_stats are not exercised). */
function comparable(stats: ModelStatsMessage): Record<string, unknown> {
  return {
    name: stats.name,
    version: stats.version,
    last_inference: stats.last_inference,
    inference_count: stats.inference_count,
    execution_count: stats.execution_count,
    inference_stats: stats.inference_stats,
    batch_stats: [...stats.batch_stats].sort((a, b) => Number(a.batch_size) - Number(b.batch_size)),
  };
}

/** Written independently of src/proxy/statistics-merge.ts: the expected sum of several instances' reports. */
function sumStatistics(reports: readonly ModelStatsMessage[][]): Record<string, unknown>[] {
  const byKey = new Map<string, ModelStatsMessage[]>();
  for (const report of reports) {
    for (const stats of report) {
      const key = `${stats.name}:${stats.version}`;
      byKey.set(key, [...(byKey.get(key) ?? []), stats]);
    }
  }
  const total = (values: readonly (string | undefined)[]): string => String(values.reduce((sum, value) => sum + BigInt(value ?? 0), 0n));
  const durations = (entries: readonly Record<string, unknown>[]): Record<string, unknown> => {
    const fields = new Set(entries.flatMap((entry) => Object.keys(entry)));
    const result: Record<string, unknown> = {};
    for (const field of fields) {
      const values = entries.map((entry) => entry[field] as { count: string; ns: string } | undefined);
      result[field] = { count: total(values.map((v) => v?.count)), ns: total(values.map((v) => v?.ns)) };
    }
    return result;
  };
  return [...byKey.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([, entries]) => {
    const sizes = [...new Set(entries.flatMap((stats) => stats.batch_stats.map((batch) => batch.batch_size)))].sort((a, b) => Number(a) - Number(b));
    const first = entries[0] as ModelStatsMessage;
    return {
      name: first.name,
      version: first.version,
      last_inference: String(entries.reduce((latest, stats) => (BigInt(stats.last_inference) > latest ? BigInt(stats.last_inference) : latest), 0n)),
      inference_count: total(entries.map((stats) => stats.inference_count)),
      execution_count: total(entries.map((stats) => stats.execution_count)),
      inference_stats: durations(entries.map((stats) => stats.inference_stats)),
      batch_stats: sizes.map((size) => {
        const batches = entries.flatMap((stats) => stats.batch_stats.filter((batch) => batch.batch_size === size))
          .map((batch) => Object.fromEntries(Object.entries(batch).filter(([field]) => field !== 'batch_size')));
        return { batch_size: size, ...durations(batches) };
      }),
    };
  });
}
