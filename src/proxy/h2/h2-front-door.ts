import { status } from '@grpc/grpc-js';
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import { inflateSync, gunzipSync } from 'node:zlib';
import { isTriageError, TriageError } from '../../errors/triage-error';
import { errorCodeSpec } from '../../errors/error-codes';
import type { Logger } from '../../observability/logger';
import { peekInferRequest, peekInferRequestPrefix, type InferRequestPeek } from '../../protocol/infer-request-peek';
import type { InstancePool } from '../../triton/instance-pool';
import type { TritonInstance } from '../../triton/triton-instance';
import type { Router } from '../router';
import type { FirstMessage } from './grpc-frame-scanner';
import { isGrpcRequest, replyEmptyMessage, replyStatus } from './grpc-status-reply';
import { ProxiedCall, type CallFailure, type CallRouting, type CallTarget } from './proxied-call';
import { CONNECTION_WINDOW_BYTES, MAX_FRAME_BYTES, STREAM_WINDOW_BYTES, UpstreamSessions } from './upstream-sessions';

const SERVICE = '/inference.GRPCInferenceService/';

/** Methods routed to the instance that serves the model named in the request's fields 1-2. */
const MODEL_ROUTED = new Set(['ModelInfer', 'ModelStreamInfer', 'ModelMetadata', 'ModelConfig', 'ModelReady'].map((method) => SERVICE + method));
const MODEL_READY = `${SERVICE}ModelReady`;
const MODEL_STREAM_INFER = `${SERVICE}ModelStreamInfer`;

export interface FrontDoorOptions {
  readonly address: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly pool: InstancePool;
  readonly router: Router;
  /** Where every other method goes: triage's own gRPC server on loopback. */
  readonly localAddress: string;
  readonly connectTimeoutMs: number;
  readonly logger: Logger;
}

export interface RunningFrontDoor {
  readonly port: number;
  stop(graceMs: number): Promise<void>;
}

/**
 * triage's gRPC port, on node:http2 directly: the hot methods (inference and model
 * metadata) are routed by model and relayed as bytes to an instance; every other method
 * (server metadata, statistics, health, the closed admin RPCs) is relayed to triage's own
 * gRPC server on loopback. No message is assembled, decoded or re-encoded on the way.
 */
export async function startFrontDoor(options: FrontDoorOptions): Promise<RunningFrontDoor> {
  const logger = options.logger.child({ component: 'grpc-front-door' });
  const sessions = new UpstreamSessions(options.connectTimeoutMs, 512);
  const server: Http2Server = createServer({
    settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES, maxConcurrentStreams: 10_000, enablePush: false },
    maxSessionMemory: 512,
  });
  // Small gRPC messages must leave at once: no Nagle delay on client connections.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const openSessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    openSessions.add(session);
    session.once('close', () => openSessions.delete(session));
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
  });
  const local: CallRouting = localRouting(options.localAddress);
  const limits = { maxMessageBytes: options.maxMessageBytes };
  const sessionSource = (address: string) => sessions.get(address);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'] ?? '';
    if (!isGrpcRequest(headers)) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: false });
      stream.end('triage\'s gRPC port speaks gRPC (POST, content-type application/grpc); REST is on the HTTP port\n');
      return;
    }
    const routing = MODEL_ROUTED.has(path) ? modelRouting(options, path, stream, headers) : local;
    new ProxiedCall(stream, headers, path, routing, sessionSource, limits).start();
  });
  server.on('sessionError', (error: Error) => logger.debug({ reason: error.message }, 'client connection error'));

  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen for gRPC on ${options.address}:${options.port}: ${error.message}`)));
    server.listen(options.port, options.address, () => resolve((server.address() as AddressInfo).port));
  });
  return {
    port,
    stop: (graceMs) => new Promise((resolve) => {
      const timer = setTimeout(() => {
        logger.warn({ graceMs }, 'calls still in flight after the shutdown grace period: cutting them');
        for (const session of openSessions) session.destroy();
        sessions.destroy();
      }, graceMs);
      server.close(() => {
        clearTimeout(timer);
        void sessions.close().then(() => resolve());
      });
      for (const session of openSessions) session.close();
    }),
  };
}

/** Methods answered by triage itself: relayed to its own gRPC server, whatever the message. */
function localRouting(address: string): CallRouting {
  const target: CallTarget = { address, started: () => undefined, finished: () => undefined };
  return { needsFirstMessage: false, choose: () => target, unreachable: () => null };
}

function instanceTarget(instance: TritonInstance): CallTarget {
  return {
    address: instance.address,
    started: () => { instance.outstanding += 1; },
    finished: () => { instance.outstanding -= 1; },
  };
}

function failure(code: status, message: string): CallFailure {
  return { code, message };
}

/**
 * Routing by the model named in the first message. ModelReady answers "not ready" itself
 * when no instance serves the model, as Triton answers for a model it does not have.
 */
function modelRouting(options: FrontDoorOptions, path: string, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): CallRouting {
  let peek: InferRequestPeek | null = null;
  let chosen: TritonInstance | null = null;
  return {
    needsFirstMessage: true,
    choose: (first: FirstMessage | null, clientEnded: boolean) => {
      if (clientEnded && (first as FirstMessage).byteLength === 0) {
        // A stream may carry no message at all; a unary call must carry one.
        if (path === MODEL_STREAM_INFER) replyStatus(stream, status.OK, '');
        else replyStatus(stream, status.INVALID_ARGUMENT, 'the call carried no request message');
        return Promise.resolve(null);
      }
      const read = readPeek(first as FirstMessage, headers, clientEnded);
      if (read === 'more') return 'more';
      if (read === null) return Promise.reject(failure(status.INVALID_ARGUMENT, 'the request is not a valid protobuf message (or its compression is not gzip or deflate)'));
      peek = read;
      const immediate = options.router.tryRoute(read);
      if (!(immediate instanceof TriageError)) {
        chosen = immediate;
        return instanceTarget(immediate);
      }
      return options.router.routeAfterRefresh(read, immediate).then(
        (instance) => {
          chosen = instance;
          return instanceTarget(instance);
        },
        (error: unknown) => {
          if (path === MODEL_READY && isTriageError(error)) {
            replyEmptyMessage(stream);
            return null;
          }
          throw isTriageError(error) ? failure(errorCodeSpec(error.code).grpc, error.message) : failure(status.INTERNAL, (error as Error).message);
        },
      );
    },
    unreachable: (_target: CallTarget, reason: string) => {
      if (chosen === null || peek === null) return null;
      options.pool.reportUnreachable(chosen, reason);
      const next = options.router.tryRoute(peek, chosen);
      if (next instanceof Error) return null;
      chosen = next;
      return instanceTarget(next);
    },
  };
}

/**
 * The routing fields of the first message: read from its beginning when it is not
 * compressed; a compressed message is read whole and inflated (gzip or deflate, per
 * grpc-encoding), while the original bytes are what gets forwarded.
 */
function readPeek(first: FirstMessage, headers: IncomingHttpHeaders, clientEnded: boolean): InferRequestPeek | null | 'more' {
  const header = first.header();
  if (header === null) return clientEnded ? null : 'more';
  if (!header.compressed) {
    const read = peekInferRequestPrefix(first.body(header.length), header.length);
    return read === 'more' && clientEnded ? null : read;
  }
  if (first.byteLength < 5 + header.length) return clientEnded ? null : 'more';
  try {
    const body = first.body(header.length);
    const encoding = headers['grpc-encoding'];
    const inflated = encoding === 'gzip' ? gunzipSync(body) : encoding === 'deflate' ? inflateSync(body) : null;
    return inflated === null ? null : peekInferRequest(inflated);
  } catch {
    return null;
  }
}
