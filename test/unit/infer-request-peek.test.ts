import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, it } from 'mocha';
import * as protobuf from 'protobufjs';
import { peekInferRequest } from '../../src/protocol/infer-request-peek';
import { protoDirectory } from '../../src/protocol/project-paths';

const root = new protobuf.Root();
root.resolvePath = (_origin, target) => join(protoDirectory(), target);
root.loadSync('grpc_service.proto', { keepCase: true });
const ModelInferRequest = root.lookupType('inference.ModelInferRequest');

function encode(message: Record<string, unknown>): Buffer {
  return Buffer.from(ModelInferRequest.encode(ModelInferRequest.fromObject(message)).finish());
}

describe('peeking at a serialized ModelInferRequest', () => {
  it('reads model name and version, skipping tensors of any size', () => {
    const big = Buffer.alloc(5 * 1024 * 1024, 7);
    const bytes = encode({
      model_name: 'breast_cancer_mlp',
      model_version: '12',
      id: 'x',
      inputs: [{ name: 'features', datatype: 'FP32', shape: [1, 30] }],
      raw_input_contents: [big],
    });
    assert.deepEqual(peekInferRequest(bytes), { modelName: 'breast_cancer_mlp', modelVersion: '12', sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: 1 });
  });

  it('finds the fields whatever their order on the wire', () => {
    const name = encode({ model_name: 'm' });
    const version = encode({ model_version: '3' });
    const inputs = encode({ raw_input_contents: [Buffer.from('abc')] });
    assert.deepEqual(peekInferRequest(Buffer.concat([inputs, version, name])), { modelName: 'm', modelVersion: '3', sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: -1 });
  });

  it('reads sequence_id as int64, uint64 or string, and the start and end flags', () => {
    const int64 = peekInferRequest(encode({ model_name: 'm', parameters: { sequence_id: { int64_param: '-5' }, sequence_start: { bool_param: true }, other: { string_param: 'sequence_x' } } }));
    assert.equal(int64?.sequenceId, '-5');
    assert.equal(int64?.sequenceStart, true);
    assert.equal(int64?.sequenceEnd, false);
    const uint64 = peekInferRequest(encode({ model_name: 'm', parameters: { sequence_id: { uint64_param: '18446744073709551615' }, sequence_end: { bool_param: true } } }));
    assert.equal(uint64?.sequenceId, '18446744073709551615');
    assert.equal(uint64?.sequenceEnd, true);
    const text = peekInferRequest(encode({ model_name: 'm', parameters: { sequence_id: { string_param: 'patient-7' } } }));
    assert.equal(text?.sequenceId, 's:patient-7');
    assert.equal(peekInferRequest(encode({ model_name: 'm', parameters: { sequence_id: { int64_param: '0' } } }))?.sequenceId, null);
    assert.equal(peekInferRequest(encode({ model_name: 'm', parameters: { priority: { uint64_param: '2' } } }))?.sequenceId, null);
  });

  it('refuses malformed bytes instead of guessing', () => {
    const bytes = encode({ model_name: 'simple', raw_input_contents: [Buffer.alloc(100)] });
    assert.equal(peekInferRequest(bytes.subarray(0, bytes.length - 1)), null, 'truncated payload');
    assert.equal(peekInferRequest(Buffer.from([0x0a, 0xff])), null, 'truncated length');
    assert.equal(peekInferRequest(Buffer.from([0x0f])), null, 'wire type 7 does not exist');
    assert.deepEqual(peekInferRequest(Buffer.alloc(0)), { modelName: '', modelVersion: '', sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: -1 });
  });
});
