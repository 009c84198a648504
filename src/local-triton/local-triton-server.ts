import { Server, ServerCredentials } from '@grpc/grpc-js';
import { resolve } from 'node:path';
import type { Logger } from '../observability/logger';
import { grpcDefinitions } from '../protocol/grpc-definitions';
import { grpcServerOptions } from '../protocol/grpc-options';
import { healthHandlers } from '../protocol/grpc-health-handlers';
import { inferHandlers } from './grpc/infer-handlers';
import { modelHandlers } from './grpc/model-handlers';
import { repositoryHandlers } from './grpc/repository-handlers';
import { serverHandlers, type ServerIdentity } from './grpc/server-handlers';
import { unsupportedHandlers } from './grpc/unsupported-handlers';
import { InferenceRunner } from './inference/inference-runner';
import { MetricsServer } from './metrics/metrics-server';
import { ModelManager, type ModelControlMode } from './models/model-manager';
import { LOCAL_TRITON_VERSION } from './version';

export interface LocalTritonOptions {
  readonly modelRepository: string;
  readonly grpcAddress: string;
  /** 0 = any free port. */
  readonly grpcPort: number;
  /** -1 = no metrics endpoint; 0 = any free port. */
  readonly metricsPort: number;
  readonly modelControlMode: ModelControlMode;
  readonly loadModels: readonly string[];
  readonly strictReadiness: boolean;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
}

export interface RunningLocalTriton {
  readonly grpcPort: number;
  /** Null when metrics are disabled. */
  readonly metricsPort: number | null;
  readonly models: ModelManager;
  /** Stops intake, lets in-flight requests finish, unloads every model. Idempotent. */
  stop(): Promise<void>;
}

const SHUTDOWN_GRACE_MS = 5_000;

/** Triton's extensions that local-triton implements. */
const EXTENSIONS = ['model_repository', 'model_repository(unload_dependents)', 'schedule_policy', 'model_configuration', 'parameters', 'statistics'];

/**
 * Starts local-triton: loads the models the control mode asks for, then serves
 * inference.GRPCInferenceService and grpc.health.v1.Health on one gRPC port and
 * Prometheus metrics on another. Resolves once both listen.
 */
export async function startLocalTriton(options: LocalTritonOptions): Promise<RunningLocalTriton> {
  const logger = options.logger.child({ component: 'local-triton' });
  const models = new ModelManager({
    repositoryPath: resolve(options.modelRepository),
    controlMode: options.modelControlMode,
    strictReadiness: options.strictReadiness,
    logger,
  });
  await models.start(options.loadModels);

  const identity: ServerIdentity = { name: 'triton', version: LOCAL_TRITON_VERSION, extensions: EXTENSIONS };
  const runner = new InferenceRunner(models);
  const definitions = grpcDefinitions();
  const server = new Server(grpcServerOptions({ maxMessageBytes: options.maxMessageBytes }));
  server.addService(definitions.inference, {
    ...serverHandlers(models, identity, logger),
    ...modelHandlers(models, logger),
    ...inferHandlers(runner, logger),
    ...repositoryHandlers(models, logger),
    ...unsupportedHandlers(logger),
  });
  server.addService(definitions.health, healthHandlers(() => models.isServerReady(), logger));

  let metrics: MetricsServer | null = null;
  let grpcPort: number;
  let metricsPort: number | null = null;
  try {
    grpcPort = await bind(server, `${options.grpcAddress}:${options.grpcPort}`);
    if (options.metricsPort >= 0) {
      metrics = new MetricsServer(models);
      metricsPort = await metrics.listen(options.grpcAddress, options.metricsPort);
    }
  } catch (error) {
    server.forceShutdown();
    await models.stop();
    throw error;
  }
  logger.info({ grpcPort, metricsPort, repository: resolve(options.modelRepository), controlMode: options.modelControlMode }, 'local-triton listening');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      await shutdownGrpc(server);
      await metrics?.close();
      await models.stop();
      logger.info('local-triton stopped');
    })();
    return stopping;
  };
  return { grpcPort, metricsPort, models, stop };
}

function bind(server: Server, address: string): Promise<number> {
  return new Promise((resolvePort, reject) => {
    server.bindAsync(address, ServerCredentials.createInsecure(), (error, port) => {
      if (error !== null) reject(new Error(`cannot listen on ${address}: ${error.message}`));
      else resolvePort(port);
    });
  });
}

/** Lets calls in flight finish for a grace period, then cuts the rest. */
function shutdownGrpc(server: Server): Promise<void> {
  return new Promise((resolveShutdown) => {
    const timer = setTimeout(() => server.forceShutdown(), SHUTDOWN_GRACE_MS);
    server.tryShutdown(() => {
      clearTimeout(timer);
      resolveShutdown();
    });
  });
}
