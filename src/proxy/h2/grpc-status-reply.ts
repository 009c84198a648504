import { constants, type IncomingHttpHeaders, type OutgoingHttpHeaders, type ServerHttp2Stream } from 'node:http2';
import type { status } from '@grpc/grpc-js';

/** gRPC's percent-encoding of grpc-message: printable ASCII except '%' stays as is. */
export function encodeGrpcMessage(message: string): string {
  let out = '';
  for (const byte of Buffer.from(message, 'utf8')) {
    out += byte >= 0x20 && byte <= 0x7e && byte !== 0x25 ? String.fromCharCode(byte) : `%${byte.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** Answers a call that will not be forwarded with a trailers-only gRPC status. Safe on a closed stream. */
export function replyStatus(stream: ServerHttp2Stream, code: status, message: string, extra: OutgoingHttpHeaders = {}): void {
  if (stream.destroyed || stream.closed) return;
  if (stream.headersSent) {
    // Headers are out: the status can only travel as trailers, or the stream is reset.
    stream.close(constants.NGHTTP2_INTERNAL_ERROR);
    return;
  }
  stream.respond({
    ':status': 200,
    'content-type': 'application/grpc',
    'grpc-status': String(code),
    'grpc-message': encodeGrpcMessage(message),
    ...extra,
  }, { endStream: true });
}

const EMPTY_MESSAGE = Buffer.from([0, 0, 0, 0, 0]);

/** Answers a unary call with an empty (all-default) response message and status OK. */
export function replyEmptyMessage(stream: ServerHttp2Stream): void {
  if (stream.destroyed || stream.closed || stream.headersSent) return;
  stream.respond({ ':status': 200, 'content-type': 'application/grpc' }, { waitForTrailers: true });
  stream.once('wantTrailers', () => stream.sendTrailers({ 'grpc-status': '0' }));
  stream.end(EMPTY_MESSAGE);
}

/** True when the headers announce a gRPC call: POST with content-type application/grpc[+proto|...]. */
export function isGrpcRequest(headers: IncomingHttpHeaders): boolean {
  const contentType = headers['content-type'];
  return headers[':method'] === 'POST' && typeof contentType === 'string' && contentType.startsWith('application/grpc');
}
