import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { SERVE_SETTINGS } from './config/serve-settings';
import type { SettingsValues } from './config/parse-settings';
import { startLocalTriton, type RunningLocalTriton } from './local-triton/local-triton-server';
import type { Logger } from './observability/logger';
import { startLocalGrpcServer } from './proxy/grpc/local-grpc-server';
import { startFrontDoor } from './proxy/h2/h2-front-door';
import { createHttpApp } from './proxy/http-app';
import { kserveRestRouter } from './proxy/rest/kserve-rest-router';
import { Router } from './proxy/router';
import { InstancePool } from './triton/instance-pool';
import { TRIAGE_VERSION } from './version';

export type ServeSettings = SettingsValues<typeof SERVE_SETTINGS>;

export interface RunningTriage {
  readonly grpcPort: number;
  readonly httpPort: number;
  /** The embedded local-triton, when no Triton instance was configured. */
  readonly embedded: RunningLocalTriton | null;
  readonly pool: InstancePool;
  readonly router: Router;
  /** Graceful: stop taking requests, let those in flight finish (bounded), release everything. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The composition root of `triage serve`: the embedded local-triton when no instance is
 * configured, the instance pool, the router, and the gRPC and HTTP front doors.
 */
export async function startTriage(settings: ServeSettings, rootLogger: Logger): Promise<RunningTriage> {
  const logger = rootLogger.child({ component: 'triage' });
  let embedded: RunningLocalTriton | null = null;
  const targets = settings.tritonUrls;
  if (targets.kind === 'embedded') {
    embedded = await startLocalTriton({
      modelRepository: settings.modelRepository,
      grpcAddress: '127.0.0.1',
      grpcPort: 0,
      metricsPort: -1,
      modelControlMode: 'explicit',
      loadModels: ['*'],
      strictReadiness: false,
      maxMessageBytes: settings.maxMessageBytes,
      logger: rootLogger,
    });
  }
  const pool = new InstancePool({
    targets: targets.kind === 'embedded' ? { kind: 'static', addresses: [`127.0.0.1:${embedded?.grpcPort ?? 0}`] } : targets,
    probeIntervalMs: settings.probeIntervalMs,
    probeTimeoutMs: settings.probeTimeoutMs,
    dnsRefreshMs: settings.dnsRefreshMs,
    maxMessageBytes: settings.maxMessageBytes,
    logger: rootLogger.child({ component: 'instance-pool' }),
  });
  await pool.start();
  const router = new Router(pool, { sequenceIdleMs: settings.sequenceIdleMs });
  let accepting = true;
  const local = await startLocalGrpcServer({
    address: '127.0.0.1',
    port: 0,
    maxMessageBytes: settings.maxMessageBytes,
    pool,
    router,
    version: TRIAGE_VERSION,
    logger: rootLogger,
  });
  const grpc = await startFrontDoor({
    address: settings.listenAddress,
    port: settings.grpcPort,
    maxMessageBytes: settings.maxMessageBytes,
    pool,
    router,
    localAddress: `127.0.0.1:${local.port}`,
    connectTimeoutMs: settings.probeTimeoutMs,
    logger: rootLogger,
  });
  const dependencies = { pool, router, maxMessageBytes: settings.maxMessageBytes, version: TRIAGE_VERSION, logger: rootLogger, accepting: () => accepting };
  const http = createServer(createHttpApp(dependencies, [kserveRestRouter(dependencies)]));
  const httpPort = await listen(http, settings.listenAddress, settings.httpPort);
  logger.info({ grpcPort: grpc.port, httpPort, instances: pool.list().map((instance) => instance.address), embedded: embedded !== null }, 'triage serving');

  let stopping: Promise<void> | null = null;
  const stop = (): Promise<void> => {
    stopping ??= (async () => {
      accepting = false;
      logger.info({ graceMs: settings.shutdownGraceMs }, 'shutting down: no new calls, draining those in flight');
      await Promise.all([grpc.stop(settings.shutdownGraceMs), closeHttp(http, settings.shutdownGraceMs)]);
      await local.stop(settings.shutdownGraceMs);
      router.stop();
      await pool.stop();
      await embedded?.stop();
      logger.info('triage stopped');
    })();
    return stopping;
  };
  return { grpcPort: grpc.port, httpPort, embedded, pool, router, stop };
}

function listen(server: Server, address: string, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', (error) => reject(new Error(`cannot listen for HTTP on ${address}:${port}: ${error.message}`)));
    server.listen(port, address, () => resolve((server.address() as AddressInfo).port));
  });
}

/** Stops accepting connections, closes idle ones, and cuts the rest after graceMs. */
function closeHttp(server: Server, graceMs: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    server.close(() => {
      clearTimeout(timer);
      resolve();
    });
    server.closeIdleConnections();
  });
}
