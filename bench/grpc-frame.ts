import { grpcDefinitions } from '../src/protocol/grpc-definitions';

/** A message as one gRPC length-prefixed frame: compressed flag 0, 4-byte big-endian length, the message. */
export function grpcFrame(message: Buffer): Buffer {
  const header = Buffer.alloc(5);
  header.writeUInt32BE(message.length, 1);
  return Buffer.concat([header, message]);
}

/** The HTTP/2 request body of a unary ModelInfer call, serialized by the project's protobufjs codec. */
export function modelInferBody(request: Record<string, unknown>): Buffer {
  const method = grpcDefinitions().inference['ModelInfer'];
  if (method === undefined) throw new Error('inference.GRPCInferenceService has no ModelInfer');
  return grpcFrame(method.requestSerialize(request));
}
