import { createServer, type Server } from 'node:http';
import { hostname } from 'node:os';
import { join, resolve } from 'node:path';
import { startRedisServer, type RedisServerProcess } from './redis/redis-server-process';
import { randomText } from './tenancy/api-key-format';
import { startTenancy, type Tenancy } from './tenancy/tenancy';
import { startRegistry, type Registry } from './registry/registry';
import { startController, type Controller } from './controller/controller';
import { InstanceProfiles } from './controller/instance-profiles';
import { DEFAULT_ARCHIVE_LIMITS } from './repository/archive/extract-archive';
import { adminApiRouter } from './api/admin-api-router';
import { jobPayloadKeys } from './jobs/job-keys';
import { createJobs, type Jobs } from './jobs/jobs';
import { startJobRunner, type JobRunner } from './jobs/execution/job-runner';
import { queueDashboardRouter } from './jobs/execution/queue-dashboard';
import { PayloadCipher } from './jobs/payload-cipher';
import type { AddressInfo } from 'node:net';
import type { SERVE_SETTINGS } from './config/serve-settings';
import type { SettingsValues } from './config/parse-settings';
import { startLocalTriton, type RunningLocalTriton } from './local-triton/local-triton-server';
import type { Logger } from './observability/logger';
import { InferenceObservers } from './observability/inference-observer';
import { gpuMemoryTotalBytes } from './triton/triton-figures';
import { roleReadiness } from './observability/role-readiness';
import { startMetrics } from './observability/metrics/start-metrics';
import { InferenceAudit } from './observability/inference-audit';
import { TrafficRecorder } from './observability/traffic/traffic-recorder';
import { startLocalGrpcServer } from './proxy/grpc/local-grpc-server';
import { startFrontDoor } from './proxy/h2/h2-front-door';
import { dashboardRouter } from './dashboard/dashboard-router';
import { createHttpApp } from './proxy/http-app';
import { kserveRestRouter } from './proxy/rest/kserve-rest-router';
import { startModelDemand } from './proxy/model-demand';
import { Router } from './proxy/router';
import { RecencyStore } from './registry/recency-store';
import { InstancePool } from './triton/instance-pool';
import type { TritonMetricsScrape } from './triton/triton-metrics-scrape';
import { TRIAGE_VERSION } from './version';

/** How often each process adds its traffic counts to the dashboard's series in Redis. */
const TRAFFIC_FLUSH_MS = 1000;

export type ServeSettings = SettingsValues<typeof SERVE_SETTINGS>;

export interface RunningTriage {
  /** The admin key generated for this run when TRIAGE_ADMIN_KEY was not set (to print once), else null. */
  readonly generatedAdminKey: string | null;
  readonly tenancy: Tenancy;
  readonly registry: Registry;
  /** Batch jobs, the client's side: the store (encrypted chunks, records) and the service behind /v1/jobs. */
  readonly jobs: Jobs;
  /** Batch jobs, execution: the chunk queue, the sweeper, and (with --jobs-concurrency > 0) the fair dispatcher and the worker. */
  readonly jobRunner: JobRunner;
  /** The deployment controller (reconciles only while this process holds the leader lease); null without the controller role. */
  readonly controller: Controller | null;
  /** The embedded redis-server, when no Redis URL was configured. */
  readonly embeddedRedis: RedisServerProcess | null;
  /** The gRPC front door's port; null without the proxy role. */
  readonly grpcPort: number | null;
  readonly httpPort: number;
  /** The embedded local-triton, when no Triton instance was configured. */
  readonly embedded: RunningLocalTriton | null;
  readonly pool: InstancePool;
  readonly router: Router;
  /** Triton's own metrics, scraped from every instance: latest(address) gives one instance's GPU, memory and model figures. */
  readonly tritonMetrics: TritonMetricsScrape;
  /** Graceful: stop taking requests, let those in flight finish (bounded), release everything. Idempotent. */
  stop(): Promise<void>;
}

/**
 * The composition root of `triage serve`: the embedded local-triton when no instance is
 * configured, the instance pool, the router, and the gRPC and HTTP front doors.
 */
export async function startTriage(settings: ServeSettings, rootLogger: Logger): Promise<RunningTriage> {
  const logger = rootLogger.child({ component: 'triage' });
  // Everything started so far, stopped in reverse order if a later step fails.
  const started: (() => Promise<void>)[] = [];
  const undo = async (): Promise<void> => {
    for (const stopPart of started.reverse()) await stopPart().catch(() => undefined);
  };
  try {
    // Batch jobs: their encryption keys first, so a missing key refuses the start before anything runs.
    const jobKeys = jobPayloadKeys({ configured: settings.jobsKeys, embeddedRedis: settings.redisUrl === '', dataDir: settings.dataDir }, logger);
    const embeddedRedis = settings.redisUrl === '' ? await startRedisServer({ directory: join(resolve(settings.dataDir), 'redis'), appendOnly: true }) : null;
    if (embeddedRedis !== null) started.push(() => embeddedRedis.stop());
    const generatedAdminKey = settings.adminKey === '' ? randomText(48) : null;
    const tenancy = await startTenancy({
      redisUrl: embeddedRedis?.url ?? settings.redisUrl,
      redisPrefix: settings.redisPrefix,
      adminKey: generatedAdminKey ?? settings.adminKey,
      leaseTtlMs: settings.leaseTtlMs,
      redisDown: settings.quotaRedisDown,
      quotaCreditMs: settings.quotaCreditMs,
      keyCacheTtlMs: settings.keyCacheTtlMs,
      usageFlushMs: settings.usageFlushMs,
      processId: `${hostname()}:${process.pid}:${randomText(6)}`,
      auditMaxEntries: settings.auditMaxEntries,
    }, rootLogger);
    started.push(() => tenancy.stop());
    const registry = await startRegistry({
      redis: tenancy.redis,
      keys: tenancy.keys,
      repository: resolve(settings.modelRepository),
      stagingDir: settings.stagingDir === '' ? join(resolve(settings.dataDir), 'staging') : resolve(settings.stagingDir),
      archiveLimits: DEFAULT_ARCHIVE_LIMITS,
      audit: tenancy.audit,
      undeployTimeoutMs: settings.undeployTimeoutMs,
    }, rootLogger);
    const targets = settings.tritonUrls;
    const embedded = targets.kind === 'embedded' ? await startLocalTriton({
      modelRepository: settings.modelRepository,
      grpcAddress: '127.0.0.1',
      grpcPort: 0,
      // Its Triton metrics on a free port, scraped like a real instance's (unless scraping is off).
      metricsPort: settings.tritonMetricsPort === -1 ? -1 : 0,
      modelControlMode: 'explicit',
      loadModels: ['*'],
      strictReadiness: false,
      maxMessageBytes: settings.maxMessageBytes,
      logger: rootLogger,
    }) : null;
    if (embedded !== null) started.push(() => embedded.stop());
    const pool = new InstancePool({
      targets: targets.kind === 'embedded' ? { kind: 'static', addresses: [`127.0.0.1:${embedded?.grpcPort ?? 0}`] } : targets,
      probeIntervalMs: settings.probeIntervalMs,
      probeTimeoutMs: settings.probeTimeoutMs,
      dnsRefreshMs: settings.dnsRefreshMs,
      maxMessageBytes: settings.maxMessageBytes,
      logger: rootLogger.child({ component: 'instance-pool' }),
    });
    started.push(() => pool.stop());
    await pool.start();
    const recencyStore = new RecencyStore(tenancy.redis, tenancy.keys);
    let tritonMetrics: TritonMetricsScrape | null = null;
    const tritonMetricsOf = (): TritonMetricsScrape | null => tritonMetrics;
    const controller = !settings.roles.has('controller') ? null : await startController({
      redisUrl: embeddedRedis?.url ?? settings.redisUrl,
      redis: tenancy.redis,
      keys: tenancy.keys,
      store: registry.store,
      recency: recencyStore,
      evictIdleMs: settings.evictIdleMinMs,
      pool,
      profiles: new InstanceProfiles({
        labels: settings.instanceLabels, memory: settings.instanceMemory, delivery: settings.delivery, pushInstances: settings.pushInstances,
        // Triton's own figure, once its metrics have been scraped (the scraper starts below).
        reportedMemoryBytes: (address) => gpuMemoryTotalBytes(tritonMetricsOf()?.latest(address) ?? null),
      }),
      repository: resolve(settings.modelRepository),
      owner: `${hostname()}:${process.pid}:${randomText(6)}`,
      leaseTtlMs: settings.controllerLeaseTtlMs,
      tickMs: settings.controllerTickMs,
    }, rootLogger);
    if (controller !== null) started.push(() => controller.stop());
    const demand = startModelDemand({ recencyStore, registry: registry.store, pool, onDemandTimeoutMs: settings.onDemandTimeoutMs }, rootLogger);
    started.push(() => demand.stop());
    const router = new Router(pool, { sequenceIdleMs: settings.sequenceIdleMs, recency: demand.recency, onDemand: demand.onDemand });
    let accepting = true;
    // How every inference call ended, fanned out to metrics, the inference audit stream and the traffic series.
    const observers = new InferenceObservers();
    const traffic = new TrafficRecorder(tenancy.redis, (step) => tenancy.keys.traffic(step), TRAFFIC_FLUSH_MS, rootLogger.child({ component: 'traffic-series' }));
    traffic.start();
    started.push(() => traffic.stop());
    observers.add(traffic);
    // The inference audit stream: metadata of every call (never a payload), buffered and written every 250 ms.
    const inferenceAudit = settings.auditInferences === 'on' ? new InferenceAudit(tenancy.redis, {
      streamKey: tenancy.keys.inferenceAudit(), retentionMs: settings.auditInferenceRetentionMs, maxEntries: settings.auditInferenceMaxEntries,
    }, rootLogger.child({ component: 'inference-audit' })) : null;
    if (inferenceAudit !== null) {
      inferenceAudit.start();
      started.push(() => inferenceAudit.stop());
      observers.add(inferenceAudit);
    }
    // Prometheus metrics (GET /metrics), observing before the front doors open so that every call is counted.
    // The job figures read the chunk queue, which starts further down.
    let chunkQueue: JobRunner['queue'] | null = null;
    const metrics = startMetrics({
      pool, registryStore: registry.store, redis: tenancy.redis, keys: tenancy.keys, jobQueue: () => chunkQueue, logger: rootLogger,
      admissionCounts: () => tenancy.admission.counts(),
      tritonMetricsPorts: new Map<string, number>(embedded !== null && embedded.metricsPort !== null ? [[`127.0.0.1:${embedded.grpcPort}`, embedded.metricsPort]] : []),
    }, settings);
    started.push(() => metrics.stop());
    tritonMetrics = metrics.scraper;
    observers.add(metrics.observer);
    const proxy = settings.roles.has('proxy');
    const local = !proxy ? null : await startLocalGrpcServer({
      address: '127.0.0.1',
      port: 0,
      maxMessageBytes: settings.maxMessageBytes,
      pool,
      router,
      version: TRIAGE_VERSION,
      logger: rootLogger,
    });
    if (local !== null) started.push(() => local.stop(0));
    const grpc = local === null ? null : await startFrontDoor({
      address: settings.listenAddress,
      port: settings.grpcPort,
      maxMessageBytes: settings.maxMessageBytes,
      pool,
      router,
      tenancy,
      localAddress: `127.0.0.1:${local.port}`,
      connectTimeoutMs: settings.probeTimeoutMs,
      observer: observers,
      logger: rootLogger,
    });
    if (grpc !== null) started.push(() => grpc.stop(0));
    // Batch jobs, the API side (create, read, cancel); the workers are wired next to it.
    const jobs = createJobs({
      redis: tenancy.redis, keys: tenancy.keys, payloadKeys: jobKeys, pool, tenants: tenancy.service, audit: tenancy.audit,
      chunkRows: settings.jobsChunkRows, maxRows: settings.jobsMaxRows, maxBodyBytes: settings.jobsMaxBodyBytes,
    });
    const jobRunner = await startJobRunner({
      redisUrl: embeddedRedis?.url ?? settings.redisUrl, keys: tenancy.keys, cipher: new PayloadCipher([...jobKeys]), pool, router,
      // Without the worker role the queue and the sweeper still run here (the api enqueues, and shows the queue); nothing executes.
      concurrency: settings.roles.has('worker') ? settings.jobsConcurrency : 0, globalConcurrency: settings.jobsGlobalConcurrency, retentionMs: settings.jobsRetentionMs,
      stallTimeoutMs: settings.jobsStallTimeoutMs, owner: `${hostname()}:${process.pid}:${randomText(6)}`,
      onRowsDone: (completed, failed) => metrics.countJobRows(completed, failed),
    }, rootLogger);
    started.push(() => jobRunner.stop(0));
    chunkQueue = jobRunner.queue;
    const dependencies = { pool, router, tenancy, registry, jobs, maxMessageBytes: settings.maxMessageBytes, version: TRIAGE_VERSION, logger: rootLogger, observer: observers, accepting: () => accepting,
      readiness: roleReadiness(settings.roles, () => accepting, tenancy.redis, pool),
      observability: { redis: tenancy.redis, keys: tenancy.keys, pool, figures: (address: string) => metrics.scraper.latest(address) } };
    // Every role: /healthz, /readyz, /metrics. proxy: KServe REST. api: the admin API and the dashboards.
    const routers = [
      ...(proxy ? [kserveRestRouter(dependencies)] : []),
      ...(settings.roles.has('api') ? [adminApiRouter(dependencies), queueDashboardRouter([jobRunner.queue], tenancy.authenticator, rootLogger), dashboardRouter(rootLogger)] : []),
      metrics.router,
    ];
    const http = createServer(createHttpApp(dependencies, routers));
    const httpPort = await listen(http, settings.listenAddress, settings.httpPort);
    logger.info({ roles: [...settings.roles], grpcPort: grpc?.port ?? null, httpPort, instances: pool.list().map((instance) => instance.address), embedded: embedded !== null }, 'triage serving');

    let stopping: Promise<void> | null = null;
    const stop = (): Promise<void> => {
      stopping ??= (async () => {
        accepting = false;
        logger.info({ graceMs: settings.shutdownGraceMs }, 'shutting down: no new calls, draining those in flight');
        // The controller stops first of all (in parallel with the drain): it releases the lease, so a standby takes over at once.
        // Calls waiting for an on-demand load are answered UNAVAILABLE (retry) at once rather than cut at the end of the grace.
        // Running chunks finish within the grace too (the rest are taken over by another worker once their lock expires).
        await Promise.all([controller?.stop(), demand.stop(), grpc?.stop(settings.shutdownGraceMs), closeHttp(http, settings.shutdownGraceMs), jobRunner.stop(settings.shutdownGraceMs)]);
        await local?.stop(settings.shutdownGraceMs);
        await traffic.stop();
        // After the front doors drained: the last calls' entries are written before Redis is closed.
        await inferenceAudit?.stop();
        await metrics.stop();
        router.stop();
        await pool.stop();
        await embedded?.stop();
        await tenancy.stop();
        await embeddedRedis?.stop();
        logger.info('triage stopped');
      })();
      return stopping;
    };
    return { grpcPort: grpc?.port ?? null, httpPort, embedded, pool, router, tritonMetrics: metrics.scraper, tenancy, registry, jobs, jobRunner, controller, embeddedRedis, generatedAdminKey, stop };
  } catch (error) {
    await undo();
    throw error;
  }
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
