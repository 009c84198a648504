import { connect, constants, type IncomingHttpHeaders, type OutgoingHttpHeaders } from 'node:http2';
import { grpcDefinitions } from '../../src/protocol/grpc-definitions';

/** What a raw HTTP/2 gRPC call got back. */
export interface RawGrpcAnswer {
  /** HTTP status of the response headers; null when none came. */
  readonly httpStatus: number | null;
  /** grpc-status from trailers (or trailers-only headers); null when none came. */
  readonly grpcStatus: number | null;
  /** grpc-message, percent-decoded. */
  readonly grpcMessage: string;
  /** Response headers and trailers together. */
  readonly metadata: IncomingHttpHeaders;
  /** The response message bytes (without the 5-byte frame header), when one came. */
  readonly body: Buffer;
  /** RST_STREAM code when the stream was reset, else null. */
  readonly rstCode: number | null;
  /** A connection or stream error, when one happened. */
  readonly error: string | null;
}

/** A ModelInfer request in the decoded form of our proto loader, serialized as a client would send it. */
export function serializeInferRequest(request: unknown): Buffer {
  const method = grpcDefinitions().inference['ModelInfer'];
  if (method === undefined) throw new Error('no ModelInfer in the service definition');
  return method.requestSerialize(request);
}

function frame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/**
 * One unary gRPC call over node:http2 with headers exactly as given: lets a test send
 * what grpc-js refuses to send (non-ASCII metadata, huge or numerous headers). Never
 * rejects: every way the call can end is in the answer. The session is closed after.
 */
export function rawGrpcCall(address: string, path: string, message: Buffer, headers: OutgoingHttpHeaders = {}, timeoutMs = 10_000): Promise<RawGrpcAnswer> {
  return new Promise((resolve) => {
    const session = connect(`http://${address}`);
    let httpStatus: number | null = null;
    const metadata: IncomingHttpHeaders = {};
    const chunks: Buffer[] = [];
    let error: string | null = null;
    let settled = false;
    const finish = (rstCode: number | null): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      session.close();
      session.destroy();
      const body = Buffer.concat(chunks);
      const rawStatus = metadata['grpc-status'];
      const rawMessage = metadata['grpc-message'];
      resolve({
        httpStatus,
        grpcStatus: typeof rawStatus === 'string' ? Number(rawStatus) : null,
        grpcMessage: typeof rawMessage === 'string' ? decodeURIComponent(rawMessage) : '',
        metadata,
        body: body.length >= 5 ? body.subarray(5) : body,
        rstCode,
        error,
      });
    };
    const timer = setTimeout(() => { error = `no answer within ${timeoutMs} ms`; finish(null); }, timeoutMs);
    session.on('error', (cause: Error) => { error = cause.message; finish(null); });
    let stream;
    try {
      stream = session.request({
        ':method': 'POST',
        ':path': path,
        'content-type': 'application/grpc',
        te: 'trailers',
        ...headers,
      });
    } catch (cause) {
      error = (cause as Error).message;
      finish(null);
      return;
    }
    stream.on('response', (received) => {
      httpStatus = Number(received[':status']);
      Object.assign(metadata, received);
    });
    stream.on('trailers', (trailers) => Object.assign(metadata, trailers));
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('error', (cause: Error) => { error = cause.message; });
    stream.on('close', () => finish(stream.rstCode === undefined || stream.rstCode === constants.NGHTTP2_NO_ERROR ? null : stream.rstCode));
    stream.end(frame(message));
  });
}
