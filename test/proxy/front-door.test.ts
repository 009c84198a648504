import { credentials, status, type Client } from '@grpc/grpc-js';
import assert from 'node:assert/strict';
import { connect } from 'node:http2';
import { request as httpRequest } from 'node:http';
import { after, before, describe, it } from 'mocha';
import { grpcDefinitions } from '../../src/protocol/grpc-definitions';
import { grpcChannelOptions } from '../../src/protocol/grpc-options';
import { grpcError } from '../support/grpc-test-client';
import { inferRequest, int32Buffer, readInt32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';
import { TEST_ADMIN_KEY } from '../support/test-redis';
import { startTriageFixture, type TriageFixture } from '../support/triage-fixture';

const INT64_IDENTITY = `name: "identity_int64"
backend: "identity"
max_batch_size: 0
input [ { name: "INPUT0", data_type: TYPE_INT64, dims: [ -1 ] } ]
output [ { name: "OUTPUT0", data_type: TYPE_INT64, dims: [ -1 ] } ]
`;

interface InferResponse {
  outputs: { name: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

describe('gateway: the gRPC front door relays bytes', () => {
  const repository = new TempRepository();
  let instance: LocalTritonFixture;
  let gateway: TriageFixture;

  before(async () => {
    repository.copySample('simple').writeModel('identity_int64', INT64_IDENTITY);
    instance = await startLocalTritonFixture({ modelRepository: repository.path, maxMessageBytes: 64 * 1024 * 1024 });
    gateway = await startTriageFixture([instance.address], { maxMessageBytes: 4 * 1024 * 1024 });
  });
  after(async () => {
    await gateway?.stop();
    await instance?.stop();
    repository.remove();
  });

  it('routes a gzip-compressed request (grpc-encoding) by inflating only what it reads, and forwards it as sent', async () => {
    const { clients } = grpcDefinitions();
    const Inference = (clients['inference'] as Record<string, unknown>)['GRPCInferenceService'] as new (...args: unknown[]) => Client;
    const compressing = new Inference(gateway.address, credentials.createInsecure(), {
      ...grpcChannelOptions({ maxMessageBytes: 16 * 1024 * 1024 }),
      'grpc.default_compression_algorithm': 2,
    });
    const a = Array.from({ length: 16 }, (_, i) => i * 7);
    const b = Array.from({ length: 16 }, () => 5);
    try {
      const response = await new Promise<InferResponse>((resolve, reject) => {
        (compressing as unknown as Record<string, (...args: unknown[]) => void>)['ModelInfer']?.call(compressing, inferRequest('simple', [
          { name: 'INPUT0', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(a) },
          { name: 'INPUT1', datatype: 'INT32', shape: [1, 16], raw: int32Buffer(b) },
        ]), gateway.client.withKey(), (error: Error | null, value: InferResponse) => (error === null ? resolve(value) : reject(error)));
      });
      assert.deepEqual(readInt32(response.raw_output_contents[0] as Buffer), a.map((x) => x + 5));
      assert.deepEqual(readInt32(response.raw_output_contents[1] as Buffer), a.map((x) => x - 5));
    } finally {
      compressing.close();
    }
  });

  it('refuses a response message over the limit with RESOURCE_EXHAUSTED naming the setting', async () => {
    // 600,000 INT64 zeros: ~0.6 MB as packed typed contents, 4.8 MB as the raw output.
    const values = new Array<string>(600_000).fill('0');
    const error = await grpcError(gateway.client.unary('ModelInfer', {
      model_name: 'identity_int64',
      inputs: [{ name: 'INPUT0', datatype: 'INT64', shape: [values.length], contents: { int64_contents: values } }],
    }));
    assert.equal(error.code, status.RESOURCE_EXHAUSTED);
    assert.match(error.details, /^response message of \d+ bytes exceeds triage's limit of 4194304 bytes \(--max-message-bytes/);
    const small = await gateway.client.unary<InferResponse>('ModelInfer', {
      model_name: 'identity_int64',
      inputs: [{ name: 'INPUT0', datatype: 'INT64', shape: [3], contents: { int64_contents: ['1', '-2', '9007199254740993'] } }],
    });
    assert.equal(small.raw_output_contents[0]?.readBigInt64LE(16), 9007199254740993n, 'the gateway still serves');
  });

  it('answers a request that is not gRPC with 415 and a pointer to the REST port', async () => {
    const session = connect(`http://${gateway.address}`);
    try {
      const { statusCode, body } = await new Promise<{ statusCode: number; body: string }>((resolve, reject) => {
        const stream = session.request({ ':method': 'GET', ':path': '/v2/health/ready' });
        let text = '';
        let code = 0;
        stream.on('response', (headers) => { code = Number(headers[':status']); });
        stream.on('data', (chunk: Buffer) => { text += chunk.toString(); });
        stream.on('end', () => resolve({ statusCode: code, body: text }));
        stream.on('error', reject);
      });
      assert.equal(statusCode, 415);
      assert.match(body, /REST is on the HTTP port/);
    } finally {
      session.close();
    }
  });

  it('does not speak HTTP/1.1 on the gRPC port, and keeps serving after such a connection', async () => {
    await new Promise<void>((resolve) => {
      const request = httpRequest({ host: '127.0.0.1', port: gateway.triage.grpcPort, path: '/', method: 'GET' }, (response) => {
        response.resume();
        response.on('end', () => resolve());
      });
      request.on('error', () => resolve());
      request.end();
    });
    const live = await gateway.client.unary<{ live: boolean }>('ServerLive', {});
    assert.equal(live.live, true);
  });

  it('a message that is not a valid protobuf is INVALID_ARGUMENT, without reaching an instance', async () => {
    const session = connect(`http://${gateway.address}`);
    try {
      const trailers = await new Promise<Record<string, unknown>>((resolve, reject) => {
        const stream = session.request({ ':method': 'POST', ':path': '/inference.GRPCInferenceService/ModelInfer', 'content-type': 'application/grpc', te: 'trailers', authorization: `Bearer ${TEST_ADMIN_KEY}` });
        stream.on('response', (headers) => { if (headers['grpc-status'] !== undefined) resolve(headers as Record<string, unknown>); });
        stream.on('trailers', (headers) => resolve(headers as Record<string, unknown>));
        stream.on('error', reject);
        stream.end(Buffer.from([0, 0, 0, 0, 3, 0x0f, 0x01, 0x02]));
      });
      assert.equal(trailers['grpc-status'], String(status.INVALID_ARGUMENT));
      assert.match(decodeURIComponent(String(trailers['grpc-message'])), /not a valid protobuf message/);
    } finally {
      session.close();
    }
  });
});
