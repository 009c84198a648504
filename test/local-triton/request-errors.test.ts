import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, type TestInput } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { SAMPLE_REPOSITORY } from '../support/temp-repository';

const sixteen = int32Buffer(Array.from({ length: 16 }, (_, i) => i));
const good = (name: string, overrides: Partial<TestInput> = {}): TestInput => ({ name, datatype: 'INT32', shape: [1, 16], raw: sixteen, ...overrides });

describe('local-triton: Triton status codes and messages for bad requests', () => {
  let fixture: LocalTritonFixture;
  before(async () => { fixture = await startLocalTritonFixture({ modelRepository: SAMPLE_REPOSITORY }); });
  after(async () => { await fixture.stop(); });

  const infer = (request: Record<string, unknown>): Promise<unknown> => fixture.client.unary('ModelInfer', request);

  it('an unknown model is NOT_FOUND', async () => {
    const error = await grpcError(infer(inferRequest('no_such_model', [good('INPUT0')])));
    assert.equal(error.code, status.NOT_FOUND);
    assert.equal(error.details, "Request for unknown model: 'no_such_model' is not found");
  });

  it('a wrong byte size is INVALID_ARGUMENT naming the input and both sizes', async () => {
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0'), good('INPUT1', { raw: sixteen.subarray(0, 60) })])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "[request id: <id_unknown>] input byte size mismatch for input 'INPUT1' for model 'simple'. Expected 64, got 60");
  });

  it('a wrong datatype is INVALID_ARGUMENT naming both types', async () => {
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0', { datatype: 'FP32' }), good('INPUT1')], { id: 'abc' })));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "[request id: abc] inference input 'INPUT0' data-type is 'FP32', but model 'simple' expects 'INT32'");
  });

  it('a wrong shape is INVALID_ARGUMENT with the expected shape including the batch dimension', async () => {
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0', { shape: [1, 15], raw: sixteen.subarray(0, 60) }), good('INPUT1')])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /^\[request id: <id_unknown>\] unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[1,15\]/);
  });

  it('a missing batch dimension is INVALID_ARGUMENT', async () => {
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0', { shape: [16] }), good('INPUT1', { shape: [16] })])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /unexpected shape for input 'INPUT0' for model 'simple'\. Expected \[-1,16\], got \[16\]/);
  });

  it('a batch larger than max_batch_size is INVALID_ARGUMENT', async () => {
    const nine = int32Buffer(new Array(9 * 16).fill(1));
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0', { shape: [9, 16], raw: nine }), good('INPUT1', { shape: [9, 16], raw: nine })])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "[request id: <id_unknown>] inference request batch-size must be <= 8 for 'simple'");
  });

  it('inputs with different batch sizes are INVALID_ARGUMENT', async () => {
    const two = int32Buffer(new Array(32).fill(1));
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0'), good('INPUT1', { shape: [2, 16], raw: two })])));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /input 'INPUT1' batch size 2 does not match input 'INPUT0' batch size 1/);
  });

  it('mixing raw_input_contents and typed contents is INVALID_ARGUMENT', async () => {
    const request = inferRequest('simple', [good('INPUT0'), good('INPUT1')]);
    (request['inputs'] as Record<string, unknown>[])[1] = { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: new Array(16).fill(1) } };
    const error = await grpcError(infer(request));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.equal(error.details, "[request id: <id_unknown>] contents field must not be specified when using raw_input_contents for 'INPUT1' for model 'simple'");
  });

  it('an unknown input, a missing input and an unknown requested output are INVALID_ARGUMENT', async () => {
    const unknown = await grpcError(infer(inferRequest('simple', [good('INPUT0'), good('INPUT1'), good('INPUT9')])));
    assert.equal(unknown.code, status.INVALID_ARGUMENT);
    assert.equal(unknown.details, "[request id: <id_unknown>] unexpected inference input 'INPUT9' for model 'simple'");

    const missing = await grpcError(infer(inferRequest('simple', [good('INPUT0')])));
    assert.equal(missing.code, status.INVALID_ARGUMENT);
    assert.equal(missing.details, "[request id: <id_unknown>] expected 2 inputs but got 1 inputs for model 'simple'. Got input(s) ['INPUT0'], but missing required input(s) ['INPUT1']. Please provide all required input(s).");

    const output = await grpcError(infer(inferRequest('simple', [good('INPUT0'), good('INPUT1')], { outputs: [{ name: 'OUTPUT7' }] })));
    assert.equal(output.code, status.INVALID_ARGUMENT);
    assert.equal(output.details, "[request id: <id_unknown>] unexpected inference output 'OUTPUT7' for model 'simple'");
  });

  it('typed contents in the wrong field, or too few values, are INVALID_ARGUMENT', async () => {
    const wrongField = await grpcError(infer(inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], contents: { fp32_contents: new Array(16).fill(1) } },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: new Array(16).fill(1) } },
    ])));
    assert.equal(wrongField.code, status.INVALID_ARGUMENT);
    assert.match(wrongField.details, /input 'INPUT0' has datatype INT32, whose values belong in contents\.int_contents/);

    const tooFew = await grpcError(infer(inferRequest('simple', [
      { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], contents: { int_contents: new Array(15).fill(1) } },
      { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], contents: { int_contents: new Array(16).fill(1) } },
    ])));
    assert.equal(tooFew.code, status.INVALID_ARGUMENT);
    assert.match(tooFew.details, /input byte size mismatch for input 'INPUT0' for model 'simple'\. Expected 64, got 60/);
  });

  it('a reserved parameter of the wrong type is INVALID_ARGUMENT', async () => {
    const error = await grpcError(infer(inferRequest('simple', [good('INPUT0'), good('INPUT1')], {
      parameters: { priority: { string_param: 'high' } },
    })));
    assert.equal(error.code, status.INVALID_ARGUMENT);
    assert.match(error.details, /invalid value type for 'priority' parameter/);
  });

  it('counts refused requests as failures in the model statistics', async () => {
    const response = await fixture.client.unary<{ model_stats: { inference_stats: { fail: { count: string } } }[] }>('ModelStatistics', { name: 'simple' });
    assert.ok(Number(response.model_stats[0]?.inference_stats.fail.count) >= 10);
  });
});
