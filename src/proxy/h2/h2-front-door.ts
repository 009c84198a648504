import { status } from '@grpc/grpc-js';
import { createServer, type Http2Server, type IncomingHttpHeaders, type ServerHttp2Session, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo, Socket } from 'node:net';
import type { InferenceObserver } from '../../observability/inference-observer';
import type { Logger } from '../../observability/logger';
import type { InstancePool } from '../../triton/instance-pool';
import type { Router } from '../router';
import type { Tenancy } from '../../tenancy/tenancy';
import { failureOf } from './call-failure';
import { isGrpcRequest, replyStatus } from './grpc-status-reply';
import { localRouting } from './local-routing';
import { modelRouting } from './model-routing';
import { ProxiedCall, type CallRouting } from './proxied-call';
import { CONNECTION_WINDOW_BYTES, MAX_FRAME_BYTES, STREAM_WINDOW_BYTES, UpstreamSessions } from './upstream-sessions';

const SERVICE = '/inference.GRPCInferenceService/';

/**
 * Largest request header list of a call (name + value + 32 octets per entry, as HTTP/2
 * counts it), gRPC's default hard limit for metadata: what triage takes, it can forward.
 */
const MAX_REQUEST_METADATA_BYTES = 16 * 1024;
/** What HTTP/2 accepts at all (memory bound); between the two, the call gets a clear refusal. */
const MAX_HEADER_LIST_BYTES = 256 * 1024;
const MAX_HEADER_LIST_PAIRS = 2048;

function headerListBytes(headers: IncomingHttpHeaders): number {
  let bytes = 0;
  for (const name in headers) {
    const value = headers[name];
    if (Array.isArray(value)) for (const item of value) bytes += name.length + item.length + 32;
    else if (value !== undefined) bytes += name.length + value.length + 32;
  }
  return bytes;
}

/** Methods routed to the instance that serves the model named in the request's fields 1-2. */
const MODEL_ROUTED = new Set(['ModelInfer', 'ModelStreamInfer', 'ModelMetadata', 'ModelConfig', 'ModelReady'].map((method) => SERVICE + method));

export interface FrontDoorOptions {
  readonly address: string;
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly pool: InstancePool;
  readonly router: Router;
  readonly tenancy: Tenancy;
  /** Where every other method goes: triage's own gRPC server on loopback. */
  readonly localAddress: string;
  readonly connectTimeoutMs: number;
  /** Told how every inference call ended (metrics, audit, traffic series). */
  readonly observer: InferenceObserver;
  readonly logger: Logger;
}

export interface RunningFrontDoor {
  readonly port: number;
  stop(graceMs: number): Promise<void>;
}

/**
 * triage's gRPC port, on node:http2 directly: the hot methods (inference and model
 * metadata) are authenticated, admitted against the tenant's quotas, routed by model and
 * relayed as bytes to an instance; every other method (server metadata, statistics,
 * health, the closed admin RPCs) is relayed to triage's own gRPC server on loopback. No
 * message is assembled, decoded or re-encoded on the way.
 */
export async function startFrontDoor(options: FrontDoorOptions): Promise<RunningFrontDoor> {
  const logger = options.logger.child({ component: 'grpc-front-door' });
  const sessions = new UpstreamSessions(options.connectTimeoutMs, 512);
  const server: Http2Server = createServer({
    settings: { initialWindowSize: STREAM_WINDOW_BYTES, maxFrameSize: MAX_FRAME_BYTES, maxConcurrentStreams: 10_000, enablePush: false, maxHeaderListSize: MAX_HEADER_LIST_BYTES },
    maxSessionMemory: 512,
    // Header lists up to these bounds reach the 'stream' handler, which refuses any over
    // MAX_REQUEST_METADATA_BYTES with a clear status; beyond them HTTP/2 itself refuses.
    maxHeaderListPairs: MAX_HEADER_LIST_PAIRS,
  });
  // Small gRPC messages must leave at once: no Nagle delay on client connections.
  server.on('connection', (socket: Socket) => socket.setNoDelay(true));
  const openSessions = new Set<ServerHttp2Session>();
  server.on('session', (session: ServerHttp2Session) => {
    openSessions.add(session);
    session.once('close', () => openSessions.delete(session));
    session.once('connect', () => session.setLocalWindowSize(CONNECTION_WINDOW_BYTES));
  });
  const limits = { maxMessageBytes: options.maxMessageBytes };
  const sessionSource = (address: string) => sessions.get(address);
  server.on('stream', (stream: ServerHttp2Stream, headers: IncomingHttpHeaders) => {
    const path = headers[':path'] ?? '';
    if (!isGrpcRequest(headers)) {
      stream.respond({ ':status': 415, 'content-type': 'text/plain' }, { endStream: false });
      stream.end('triage\'s gRPC port speaks gRPC (POST, content-type application/grpc); REST is on the HTTP port\n');
      return;
    }
    const metadataBytes = headerListBytes(headers);
    if (metadataBytes > MAX_REQUEST_METADATA_BYTES) {
      stream.resume();
      replyStatus(stream, status.RESOURCE_EXHAUSTED, `request metadata of ${metadataBytes} bytes exceeds triage's limit of ${MAX_REQUEST_METADATA_BYTES} bytes (gRPC's default limit): send less metadata`);
      return;
    }
    const routing: CallRouting = MODEL_ROUTED.has(path)
      ? modelRouting(options, path, stream, headers)
      : localRouting(options.localAddress, path, headers, options.tenancy.authenticator);
    new ProxiedCall(stream, headers, path, routing, sessionSource, limits, failureOf).start();
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

export { status };
