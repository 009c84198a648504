import { status, type ClientDuplexStream, type Metadata, type ServerDuplexStream, type StatusObject } from '@grpc/grpc-js';
import { toGrpcStatus } from '../../errors/grpc-error';
import { peekInferRequest } from '../../protocol/infer-request-peek';
import type { TritonInstance } from '../../triton/triton-instance';
import { forwardedMetadata } from '../forwarded-metadata';
import type { ForwardContext } from './forward-unary';

const identity = (buffer: Buffer): Buffer => buffer;
const PATH = '/inference.GRPCInferenceService/ModelStreamInfer';

/**
 * ModelStreamInfer: the stream is routed by its first message and stays on that
 * instance for its whole life (sequences on one stream keep their state). Messages flow
 * raw both ways with backpressure; the instance's headers, status and trailers reach the
 * client unchanged; a client cancel cancels the upstream stream. Streams are not moved to
 * another instance: an instance failure ends the stream with its status.
 */
export function forwardStream(context: ForwardContext): (call: ServerDuplexStream<Buffer, Buffer>) => void {
  return (call) => {
    let upstream: ClientDuplexStream<Buffer, Buffer> | null = null;
    let routing = false;
    let clientEnded = false;
    let finished = false;
    const queued: Buffer[] = [];

    const finish = (result: Partial<StatusObject> & { code: status }): void => {
      if (finished) return;
      finished = true;
      if (result.code === status.OK) call.end(result.metadata);
      else call.emit('error', { code: result.code, details: result.details ?? '', metadata: result.metadata });
    };

    const open = (instance: TritonInstance): void => {
      instance.outstanding += 1;
      const stream = instance.client.inference.makeBidiStreamRequest(PATH, identity, identity, forwardedMetadata(call.metadata), { deadline: call.getDeadline() });
      upstream = stream;
      stream.on('metadata', (headers: Metadata) => call.sendMetadata(forwardedMetadata(headers)));
      stream.on('data', (message: Buffer) => {
        if (!call.write(message)) {
          stream.pause();
          call.once('drain', () => stream.resume());
        }
      });
      stream.on('status', (result: StatusObject) => {
        instance.outstanding -= 1;
        finish({ code: result.code, details: result.details, metadata: forwardedMetadata(result.metadata) });
      });
      stream.on('error', () => { /* the 'status' event reports it */ });
      for (const message of queued.splice(0)) stream.write(message);
      if (clientEnded) stream.end();
    };

    call.on('data', (message: Buffer) => {
      if (upstream !== null) {
        if (!upstream.write(message)) {
          call.pause();
          upstream.once('drain', () => call.resume());
        }
        return;
      }
      queued.push(message);
      if (routing) return;
      routing = true;
      const peek = peekInferRequest(message);
      if (peek === null) {
        finish({ code: status.INVALID_ARGUMENT, details: 'the first ModelStreamInfer message is not a valid ModelInferRequest' });
        return;
      }
      context.router.route(peek).then(
        (instance) => { if (!finished && !call.cancelled) open(instance); },
        (error: unknown) => finish(toGrpcStatus(error) as StatusObject),
      );
    });
    call.on('end', () => {
      clientEnded = true;
      if (upstream !== null) upstream.end();
      else if (!routing) finish({ code: status.OK, details: '' });
    });
    call.on('cancelled', () => {
      finished = true;
      upstream?.cancel();
    });
    call.on('error', () => { upstream?.cancel(); });
  };
}
