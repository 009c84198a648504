import { Metadata, status, type ClientDuplexStream, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { float32Buffer, inferRequest, int32Buffer, readFloat32, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

interface StreamResponse {
  error_message: string;
  infer_response: InferResponse | null;
}

interface StreamClose {
  readonly status: StatusObject;
  /** The 'end' event fired (the server finished the stream with OK). */
  readonly ended: boolean;
  readonly error: ServiceError | null;
  /** Responses received when the stream closed. */
  readonly responseCount: number;
}

/** One ModelStreamInfer call: collects responses and reports how the stream closed. */
class StreamProbe {
  readonly responses: StreamResponse[] = [];
  readonly closed: Promise<StreamClose>;
  private readonly waiters: { count: number; resolve: () => void; reject: (error: Error) => void }[] = [];

  constructor(readonly call: ClientDuplexStream<unknown, StreamResponse>) {
    call.on('data', (response: StreamResponse) => {
      this.responses.push(response);
      for (const waiter of this.waiters.filter((w) => this.responses.length >= w.count)) waiter.resolve();
    });
    this.closed = new Promise((resolve) => {
      let statusObject: StatusObject | null = null;
      let ended = false;
      let error: ServiceError | null = null;
      let endCount = -1;
      const settle = (): void => {
        if (statusObject !== null && (ended || error !== null)) {
          resolve({ status: statusObject, ended, error, responseCount: endCount >= 0 ? endCount : this.responses.length });
        }
      };
      call.on('status', (s: StatusObject) => {
        statusObject = s;
        settle();
        // A stream that closes cannot deliver what is still awaited: fail now rather than at the test timeout.
        for (const waiter of this.waiters.splice(0)) {
          if (this.responses.length < waiter.count) waiter.reject(new Error(`the stream closed (${s.code} ${s.details}) after ${this.responses.length} of ${waiter.count} responses`));
        }
      });
      call.on('end', () => { ended = true; endCount = this.responses.length; settle(); });
      call.on('error', (e: ServiceError) => { error = e; settle(); });
    });
  }

  /** Resolves once `count` responses in total have arrived; rejects if the stream closes first. */
  waitFor(count: number): Promise<void> {
    if (this.responses.length >= count) return Promise.resolve();
    return new Promise((resolve, reject) => { this.waiters.push({ count, resolve, reject }); });
  }

  byId(id: string): StreamResponse[] {
    return this.responses.filter((response) => response.infer_response?.id === id);
  }
}

const range = <T = number>(n: number, f: (i: number) => T): T[] => Array.from({ length: n }, (_, i) => f(i));

function simpleRequest(id: string, a: number[], b: number[]): Record<string, unknown> {
  return inferRequest('simple', [
    { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
  ], { id });
}

function identityRequest(id: string, values: number[]): Record<string, unknown> {
  return inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [values.length], raw: float32Buffer(values) }], { id });
}

/** Wrong datatype for simple: INVALID_ARGUMENT. */
function badRequest(id: string): Record<string, unknown> {
  const request = simpleRequest(id, range(16, () => 1), range(16, () => 2));
  (request['inputs'] as Record<string, unknown>[])[0] = { name: 'INPUT0', datatype: 'FP32', shape: [1, 16] };
  return request;
}

describe('local-triton: ModelStreamInfer', () => {
  let repository: TempRepository | undefined;
  let fixture: LocalTritonFixture;
  before(async () => {
    repository = new TempRepository().copySample('simple', 'identity_fp32');
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
  });
  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  const openStream = (metadata = new Metadata()): StreamProbe => {
    const method = (fixture.client.inference as unknown as Record<string, (metadata: Metadata) => ClientDuplexStream<unknown, StreamResponse>>)['ModelStreamInfer'];
    assert.ok(method !== undefined);
    return new StreamProbe(method.call(fixture.client.inference, metadata));
  };

  it('answers every request on one stream once, across models, with the right outputs and echoed ids', async () => {
    const probe = openStream();
    const simpleCases = new Map([
      ['s-1', [range(16, (i) => i), range(16, (i) => 100 - i)]],
      ['s-2', [range(16, (i) => -i * 7), range(16, (i) => i * i)]],
      ['s-3', [range(16, () => 2147483000), range(16, () => -5)]],
    ] as [string, number[][]][]);
    const identityCases = new Map([
      ['i-1', [1.5, -2.25, 3e10]],
      ['i-2', range(1000, (i) => i / 8)],
      ['i-3', [0]],
    ]);
    // Interleaved, written back to back without waiting.
    probe.call.write(simpleRequest('s-1', ...(simpleCases.get('s-1') as [number[], number[]])));
    probe.call.write(identityRequest('i-1', identityCases.get('i-1') as number[]));
    probe.call.write(identityRequest('i-2', identityCases.get('i-2') as number[]));
    probe.call.write(simpleRequest('s-2', ...(simpleCases.get('s-2') as [number[], number[]])));
    probe.call.write(identityRequest('i-3', identityCases.get('i-3') as number[]));
    probe.call.write(simpleRequest('s-3', ...(simpleCases.get('s-3') as [number[], number[]])));
    await probe.waitFor(6);
    probe.call.end();
    const closed = await probe.closed;

    assert.equal(closed.status.code, status.OK);
    assert.equal(closed.ended, true);
    assert.equal(probe.responses.length, 6, 'one answer per request, no more');
    for (const response of probe.responses) assert.equal(response.error_message, '');
    for (const [id, [a = [], b = []]] of simpleCases) {
      const answers = probe.byId(id);
      assert.equal(answers.length, 1, id);
      const response = answers[0]?.infer_response as InferResponse;
      assert.equal(response.model_name, 'simple');
      assert.equal(response.model_version, '1');
      assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', 'INT32', [1, 16]], ['OUTPUT1', 'INT32', [1, 16]]]);
      assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), readInt32(int32Buffer(a.map((x, i) => x + (b[i] as number)))), id);
      assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), readInt32(int32Buffer(a.map((x, i) => x - (b[i] as number)))), id);
    }
    for (const [id, values] of identityCases) {
      const answers = probe.byId(id);
      assert.equal(answers.length, 1, id);
      const response = answers[0]?.infer_response as InferResponse;
      assert.equal(response.model_name, 'identity_fp32');
      assert.deepEqual(response.outputs[0]?.shape.map(Number), [values.length]);
      assert.deepEqual(readFloat32(response.raw_output_contents[0] as Buffer), readFloat32(float32Buffer(values)), id);
    }
  });

  it('answers a bad request in-band with error_message and keeps the stream open for the next one', async () => {
    const unaryError = await grpcError(fixture.client.unary('ModelInfer', badRequest('bad-1')));
    assert.equal(unaryError.code, status.INVALID_ARGUMENT);

    const probe = openStream();
    probe.call.write(badRequest('bad-1'));
    await probe.waitFor(1);
    const [bad] = probe.responses;
    assert.equal(bad?.error_message, unaryError.details);
    assert.equal(bad?.error_message, "[request id: bad-1] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'");
    assert.equal(bad?.infer_response, null);

    probe.call.write(inferRequest('no_such_model', [], { id: 'bad-2' }));
    await probe.waitFor(2);
    assert.equal(probe.responses[1]?.error_message, "Request for unknown model: 'no_such_model' is not found");

    probe.call.write(identityRequest('after', [4, 5, 6]));
    await probe.waitFor(3);
    const after = probe.responses[2];
    assert.equal(after?.error_message, '');
    assert.equal(after?.infer_response?.id, 'after');
    assert.deepEqual(readFloat32(after?.infer_response?.raw_output_contents[0] as Buffer), [4, 5, 6]);

    probe.call.end();
    const closed = await probe.closed;
    assert.equal(closed.status.code, status.OK, 'in-band errors do not fail the stream');
    assert.equal(closed.ended, true);
    assert.equal(probe.responses.length, 3);
  });

  it('with metadata triton_grpc_error: true, the first error ends the stream with its gRPC status', async () => {
    const metadata = new Metadata();
    metadata.set('triton_grpc_error', 'true');
    const probe = openStream(metadata);
    probe.call.write(identityRequest('ok-first', [1]));
    await probe.waitFor(1);
    assert.equal(probe.responses[0]?.infer_response?.id, 'ok-first');

    probe.call.write(badRequest('bad-x'));
    // A second response would be an in-band error: fail at once instead of waiting for a close that never comes.
    const inBand = probe.waitFor(2).then(() => {
      probe.call.cancel();
      throw new Error(`the error came in-band: ${probe.responses[1]?.error_message ?? ''}`);
    }, () => probe.closed);
    const closed = await Promise.race([probe.closed, inBand]);
    assert.equal(closed.status.code, status.INVALID_ARGUMENT);
    assert.equal(closed.error?.code, status.INVALID_ARGUMENT);
    assert.equal(closed.status.details, "[request id: bad-x] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'");
    assert.equal(closed.ended, false);
    assert.equal(probe.responses.length, 1, 'no in-band error_message was sent');
    assert.ok(probe.responses.every((response) => response.error_message === ''));

    // The server is unharmed: a new stream works.
    const next = openStream(metadata);
    next.call.write(identityRequest('next', [2]));
    await next.waitFor(1);
    next.call.end();
    assert.equal((await next.closed).status.code, status.OK);
    assert.equal(next.responses[0]?.infer_response?.id, 'next');
  });

  it('ends cleanly after the client half-closes, only once every answer has been sent', async () => {
    const probe = openStream();
    const count = 40;
    for (let i = 0; i < count; i++) {
      probe.call.write(i % 2 === 0 ? identityRequest(`h-${i}`, range(64, (j) => i * 1000 + j)) : simpleRequest(`h-${i}`, range(16, (j) => i + j), range(16, () => i)));
    }
    // Half-close at once, before any answer has arrived.
    probe.call.end();
    assert.equal(probe.responses.length, 0);
    const closed = await probe.closed;
    assert.equal(closed.status.code, status.OK);
    assert.equal(closed.ended, true);
    assert.equal(closed.responseCount, count, "every answer arrived before the stream's end");
    assert.deepEqual(new Set(probe.responses.map((r) => r.infer_response?.id)), new Set(range(count, (i) => `h-${i}`)));
    assert.ok(probe.responses.every((response) => response.error_message === ''));
    for (const response of probe.responses) {
      const i = Number(response.infer_response?.id.slice(2));
      const raw = response.infer_response?.raw_output_contents[0] as Buffer;
      if (i % 2 === 0) assert.deepEqual(readFloat32(raw), range(64, (j) => i * 1000 + j));
      else assert.deepEqual(readInt32(raw), range(16, (j) => 2 * i + j));
    }
  });

  it('counts stream requests in the model statistics like unary ones', async () => {
    const stats = await fixture.client.unary<{ model_stats: { inference_stats: { success: { count: string }; fail: { count: string } } }[] }>('ModelStatistics', { name: 'simple' });
    const inference = stats.model_stats[0]?.inference_stats;
    // s-1..s-3, 20 odd h-* requests; failures: bad-1 (unary and stream), bad-x.
    assert.equal(Number(inference?.success.count), 3 + 20);
    assert.equal(Number(inference?.fail.count), 3);
  });
});
