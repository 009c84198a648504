import { Metadata } from '@grpc/grpc-js';
import { connect, type IncomingHttpHeaders, type IncomingHttpStatusHeader } from 'node:http2';
import { grpcDefinitions } from '../src/protocol/grpc-definitions';
import type { ModelInferResponse } from '../src/protocol/inference-messages';
import { TritonClient } from '../src/triton/triton-client';
import type { ProxyScenario } from './proxy-scenarios';

export const MODEL_INFER_PATH = '/inference.GRPCInferenceService/ModelInfer';
/** The headers h2load sends besides its own (:method POST, :path, content-length). */
export const GRPC_REQUEST_HEADERS: readonly string[] = ['content-type: application/grpc', 'te: trailers'];

const TIMEOUT_MS = 10_000;

/**
 * Checks, before anything is timed, that answers through 127.0.0.1:port are gRPC
 * successes with the right tensors: once from the project's TritonClient, and once for
 * the exact body h2load will POST (h2load itself only sees HTTP statuses). Resolves with
 * the bytes of DATA in that answer, so a run can tell that each of its 200s carried one.
 */
export async function checkTarget(port: number, scenario: ProxyScenario, body: Buffer, apiKey: string | null = null): Promise<number> {
  const client = new TritonClient(`127.0.0.1:${port}`, { maxMessageBytes: 64 * 1024 * 1024 });
  const metadata = new Metadata();
  if (apiKey !== null) metadata.set('authorization', `Bearer ${apiKey}`);
  try {
    scenario.check(await client.unary<ModelInferResponse>('ModelInfer', scenario.request, { timeoutMs: TIMEOUT_MS, metadata }));
  } finally {
    client.close();
  }
  const { headers, trailers, data } = await postOnce(port, body, apiKey);
  const grpcStatus = trailers['grpc-status'] ?? headers['grpc-status'];
  if (headers[':status'] !== 200 || grpcStatus !== '0') {
    throw new Error(`POST of the benchmark's body to port ${port}: HTTP ${headers[':status']}, grpc-status ${String(grpcStatus)} `
      + `(${String(trailers['grpc-message'] ?? headers['grpc-message'] ?? '')})`);
  }
  const length = data.length >= 5 ? data.readUInt32BE(1) : -1;
  if (data[0] !== 0 || data.length !== 5 + length) throw new Error(`POST of the benchmark's body to port ${port}: the answer is not one gRPC frame`);
  const method = grpcDefinitions().inference['ModelInfer'];
  if (method === undefined) throw new Error('inference.GRPCInferenceService has no ModelInfer');
  scenario.check(method.responseDeserialize(data.subarray(5)) as ModelInferResponse);
  return data.length;
}

interface RawAnswer {
  headers: IncomingHttpHeaders & IncomingHttpStatusHeader;
  trailers: IncomingHttpHeaders;
  data: Buffer;
}

function postOnce(port: number, body: Buffer, apiKey: string | null): Promise<RawAnswer> {
  const session = connect(`http://127.0.0.1:${port}`);
  return new Promise<RawAnswer>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no answer from port ${port} within ${TIMEOUT_MS} ms`)), TIMEOUT_MS);
    session.once('error', reject);
    const stream = session.request({ ':method': 'POST', ':path': MODEL_INFER_PATH, 'content-type': 'application/grpc', te: 'trailers', ...(apiKey === null ? {} : { authorization: `Bearer ${apiKey}` }) });
    const answer: RawAnswer = { headers: {}, trailers: {}, data: Buffer.alloc(0) };
    const chunks: Buffer[] = [];
    stream.on('response', (headers) => { answer.headers = headers; });
    stream.on('trailers', (trailers) => { answer.trailers = trailers; });
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.once('error', reject);
    stream.once('close', () => {
      clearTimeout(timer);
      answer.data = Buffer.concat(chunks);
      resolve(answer);
    });
    stream.end(body);
  }).finally(() => session.destroy());
}
