import { status } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'mocha';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';

interface InferResponse {
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

const MiB = 1024 * 1024;

/**
 * `elements` FP32 values with a deterministic, position-dependent bit pattern (a
 * multiplicative hash of the index, bit 30 cleared so every value is finite): a
 * dropped, repeated or shifted chunk anywhere changes the bytes.
 */
function patternedFp32(elements: number): Buffer {
  const words = new Uint32Array(elements);
  for (let i = 0; i < elements; i++) words[i] = (Math.imul(i + 1, 0x9e3779b1) ^ (i >>> 11)) & 0xbfffffff;
  return Buffer.from(words.buffer);
}

const identityRequest = (data: Buffer): Record<string, unknown> =>
  inferRequest('identity_fp32', [{ name: 'INPUT0', datatype: 'FP32', shape: [data.length / 4], raw: data }]);

describe('local-triton: large tensors', () => {
  // Only the sample identity_fp32 model: no onnxruntime workers to start.
  let repository: TempRepository | undefined;
  before(() => { repository = new TempRepository().copySample('identity_fp32'); });
  after(() => { repository?.remove(); });

  describe('with the default message limit (256 MiB)', () => {
    let fixture: LocalTritonFixture;
    before(async () => { fixture = await startLocalTritonFixture({ modelRepository: (repository as TempRepository).path }); });
    after(async () => { await fixture?.stop(); });

    it('a 64 MiB FP32 tensor (16 Mi elements) round-trips through identity_fp32 byte for byte', async () => {
      const elements = 16 * MiB;
      const data = patternedFp32(elements);
      assert.equal(data.length, 64 * MiB);
      const response = await fixture.client.unary<InferResponse>('ModelInfer', identityRequest(data));
      assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['OUTPUT0', 'FP32', [elements]]]);
      const output = response.raw_output_contents[0] as Buffer;
      assert.equal(output.length, data.length);
      assert.ok(output.equals(data), 'the 64 MiB output differs from the input');
    });
  });

  describe('with an 8 MiB message limit', () => {
    let fixture: LocalTritonFixture;
    before(async () => {
      fixture = await startLocalTritonFixture({ modelRepository: (repository as TempRepository).path, maxMessageBytes: 8 * MiB });
    });
    after(async () => { await fixture?.stop(); });

    it('refuses a 16 MiB request with RESOURCE_EXHAUSTED and keeps serving', async () => {
      const tooBig = patternedFp32(4 * MiB);
      assert.equal(tooBig.length, 16 * MiB);
      const error = await grpcError(fixture.client.unary('ModelInfer', identityRequest(tooBig)));
      assert.equal(error.code, status.RESOURCE_EXHAUSTED);
      assert.match(error.details, /larger than max/i);

      // The same channel still gets answers, and a tensor under the limit goes through.
      const small = patternedFp32(1024);
      const smallResponse = await fixture.client.unary<InferResponse>('ModelInfer', identityRequest(small));
      assert.ok((smallResponse.raw_output_contents[0] as Buffer).equals(small));
      const underLimit = patternedFp32(MiB);
      const underResponse = await fixture.client.unary<InferResponse>('ModelInfer', identityRequest(underLimit));
      assert.ok((underResponse.raw_output_contents[0] as Buffer).equals(underLimit));
      const live = await fixture.client.unary<{ live: boolean }>('ServerLive', {});
      assert.equal(live.live, true);
    });
  });
});
