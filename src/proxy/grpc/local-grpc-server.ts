import { Server, ServerCredentials } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger';
import { grpcDefinitions } from '../../protocol/grpc-definitions';
import { healthHandlers } from '../../protocol/grpc-health-handlers';
import { grpcServerOptions } from '../../protocol/grpc-options';
import type { InstancePool } from '../../triton/instance-pool';
import { closedHandlers } from './closed-handlers';
import { proxyServerHandlers } from './server-handlers';
import { statisticsHandler } from './statistics-handler';
import type { Router } from '../router';

export interface LocalGrpcServerOptions {
  readonly address: string;
  /** 0 = any free port. */
  readonly port: number;
  readonly maxMessageBytes: number;
  readonly pool: InstancePool;
  readonly router: Router;
  readonly version: string;
  readonly logger: Logger;
}

export interface RunningLocalGrpcServer {
  readonly port: number;
  /** Stops taking calls, lets those in flight finish for up to graceMs, then cuts the rest. */
  stop(graceMs: number): Promise<void>;
}

/**
 * triage's own gRPC service, on loopback behind the front door (h2/h2-front-door.ts): the
 * methods triage answers itself (ServerLive, ServerReady, ServerMetadata, ModelStatistics,
 * the closed admin RPCs) and grpc.health.v1.Health. The model-routed methods never reach it.
 */
export async function startLocalGrpcServer(options: LocalGrpcServerOptions): Promise<RunningLocalGrpcServer> {
  const logger = options.logger.child({ component: 'grpc-local' });
  const definitions = grpcDefinitions();
  const server = new Server(grpcServerOptions({ maxMessageBytes: options.maxMessageBytes }));
  server.addService(definitions.inference, {
    ...proxyServerHandlers(options.pool, options.version, logger),
    ...closedHandlers(logger),
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
