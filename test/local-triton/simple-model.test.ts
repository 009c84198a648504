import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';

interface InferResponse {
  model_name: string;
  model_version: string;
  id: string;
  outputs: { name: string; datatype: string; shape: string[]; contents: unknown }[];
  raw_output_contents: Buffer[];
}

const range = (n: number, f: (i: number) => number): number[] => Array.from({ length: n }, (_, i) => f(i));

describe('local-triton: the simple model (INT32 sum and difference)', () => {
  let fixture: LocalTritonFixture;
  before(async () => { fixture = await startLocalTritonFixture({ modelRepository: SAMPLE_REPOSITORY }); });
  after(async () => { await fixture.stop(); });

  it('returns INPUT0+INPUT1 and INPUT0-INPUT1 for raw inputs, echoing the request id', async () => {
    const a = range(16, (i) => i * 3 - 7);
    const b = range(16, (i) => 100 - i * i);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
    ], { id: 'req-42' }));
    assert.equal(response.model_name, 'simple');
    assert.equal(response.model_version, '1');
    assert.equal(response.id, 'req-42');
    assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [
      ['OUTPUT0', 'INT32', [1, 16]],
      ['OUTPUT1', 'INT32', [1, 16]],
    ]);
    assert.equal(response.raw_output_contents.length, 2);
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), a.map((x, i) => x + (b[i] as number)));
    assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), a.map((x, i) => x - (b[i] as number)));
  });

  it('accepts typed contents (int_contents) and answers with raw outputs', async () => {
    const a = range(32, (i) => i);
    const b = range(32, () => 5);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [2, 16], contents: { int_contents: a } },
      { name: 'INPUT1', datatype: 'INT32', shape: [2, 16], contents: { int_contents: b } },
    ]));
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), a.map((x) => x + 5));
    assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), a.map((x) => x - 5));
    assert.deepEqual(response.outputs[0]?.shape.map(Number), [2, 16]);
    assert.equal(response.outputs[0]?.contents, null, 'Triton never fills typed output contents');
  });

  it('runs a full batch of max_batch_size (8)', async () => {
    const a = range(8 * 16, (i) => i);
    const b = range(8 * 16, (i) => 2 * i);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [8, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [8, 16], raw: int32Buffer(b) },
    ]));
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), a.map((x) => 3 * x));
    assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), a.map((x) => 0 - x));
  });

  it('returns only the requested outputs, in the order asked', async () => {
    const a = range(16, (i) => i);
    const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    ], { outputs: [{ name: 'OUTPUT1' }] }));
    assert.deepEqual(response.outputs.map((o) => o.name), ['OUTPUT1']);
    assert.equal(response.raw_output_contents.length, 1);
    assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), range(16, () => 0));
  });

  it('addresses an explicit version and refuses one that does not exist', async () => {
    const a = range(16, (i) => i);
    const request = (version: string): Record<string, unknown> => inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
    ], { model_version: version });
    const response = await fixture.client.unary<InferResponse>('ModelInfer', request('1'));
    assert.equal(response.model_version, '1');
    const error = await grpcError(fixture.client.unary('ModelInfer', request('7')));
    assert.equal(error.details, "Request for unknown model: 'simple' version 7 is not found");
  });
});
