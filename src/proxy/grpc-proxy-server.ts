import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../observability/logger';
import { grpcDefinitions } from '../protocol/grpc-definitions';
import { healthHandlers } from '../protocol/grpc-health-handlers';
import { grpcServerOptions } from '../protocol/grpc-options';
import type { InstancePool } from '../triton/instance-pool';
import { closedHandlers } from './grpc/closed-handlers';
import { forwardStream } from './grpc/forward-stream';
import { forwardUnary, type ForwardContext } from './grpc/forward-unary';
import { withRawMethods } from './grpc/raw-service-definition';
import { proxyServerHandlers } from './grpc/server-handlers';
import { statisticsHandler } from './grpc/statistics-handler';
import type { Router } from './router';

export interface GrpcProxyOptions {
  readonly address: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly pool: InstancePool;
  readonly router: Router;
  readonly version: string;
  readonly logger: Logger;
}

export interface RunningGrpcProxy {
  readonly port: number;
  /** Stops taking calls, lets those in flight finish for up to graceMs, then cuts the rest. */
  stop(graceMs: number): Promise<void>;
}

/** Methods forwarded as raw bytes: the message is peeked at, never decoded. */
const RAW_METHODS = ['ModelInfer', 'ModelStreamInfer', 'ModelMetadata', 'ModelConfig', 'ModelReady'];

/** An empty ModelReadyResponse: `ready` is false. */
const NOT_READY = Buffer.alloc(0);

/** triage's gRPC front door: inference.GRPCInferenceService and grpc.health.v1.Health on one port. */
export async function startGrpcProxy(options: GrpcProxyOptions): Promise<RunningGrpcProxy> {
  const logger = options.logger.child({ component: 'grpc-proxy' });
  const context: ForwardContext = { pool: options.pool, router: options.router, logger };
  const definitions = grpcDefinitions();
  const server = new Server(grpcServerOptions({ maxMessageBytes: options.maxMessageBytes }));
  server.addService(withRawMethods(definitions.inference, RAW_METHODS), {
    ...proxyServerHandlers(options.pool, options.version, logger),
    ...closedHandlers(logger),
    ModelInfer: forwardUnary(context, 'ModelInfer'),
    ModelStreamInfer: forwardStream(context),
    ModelMetadata: forwardUnary(context, 'ModelMetadata'),
    ModelConfig: forwardUnary(context, 'ModelConfig'),
    ModelReady: forwardUnary(context, 'ModelReady', () => NOT_READY),
    ModelStatistics: statisticsHandler(options.pool, options.router, logger),
  });
  server.addService(definitions.health, healthHandlers(() => options.pool.isReady(), logger));
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(`${options.address}:${options.port}`, ServerCredentials.createInsecure(), (error, bound) => {
      if (error !== null) reject(new Error(`cannot listen for gRPC on ${options.address}:${options.port}: ${error.message}`));
      else resolve(bound);
    });
  });
  return {
    port,
    stop: (graceMs) => new Promise((resolve) => {
      const timer = setTimeout(() => {
        logger.warn({ graceMs }, 'calls still in flight after the shutdown grace period: cancelling them');
        server.forceShutdown();
      }, graceMs);
      server.tryShutdown(() => {
        clearTimeout(timer);
        resolve();
      });
    }),
  };
}
