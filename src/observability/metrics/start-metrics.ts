import type { Router as ExpressRouter } from 'express';
import { Registry } from 'prom-client';
import type { RedisClient } from '../../redis/redis-client';
import type { RedisKeys } from '../../redis/redis-keys';
import type { RegistryStore } from '../../registry/registry-store';
import type { InstancePool } from '../../triton/instance-pool';
import { TritonMetricsScrape } from '../../triton/triton-metrics-scrape';
import type { InferenceObserver } from '../inference-observer';
import type { Logger } from '../logger';
import { InferenceMetrics } from './inference-metrics';
import type { AdmissionCounts } from '../../tenancy/quota-admission';
import { registerAdmissionMetrics } from './admission-metrics';
import { registerInstanceMetrics } from './instance-metrics';
import { registerJobMetrics } from './job-metrics';
import { JobQueueReader, type WaitingChunkQueue } from './job-queue-reader';
import { LabelBounds } from './label-bounds';
import { metricsRouter } from './metrics-router';
import { registerModelStateMetrics } from './model-state-metrics';
import { processMetricsRegistry } from './process-metrics';
import { RedisProbe } from './redis-probe';
import { registerTritonMetrics } from './triton-metrics';

/** Figures read from Redis at scrape time are reused this long: a scrape costs at most one read of each per period. */
const REDIS_FIGURES_CACHE_MS = 2000;
/** A scrape does not wait longer than this for Redis (the figures are then left out). */
const REDIS_READ_TIMEOUT_MS = 1500;
const REDIS_PROBE_INTERVAL_MS = 5000;
const REDIS_PROBE_TIMEOUT_MS = 2000;
const TRITON_SCRAPE_TIMEOUT_MS = 2000;

export interface MetricsDependencies {
  readonly pool: InstancePool;
  readonly registryStore: Pick<RegistryStore, 'list' | 'placement'>;
  /** The tenancy client (fail-fast: commands fail at once while Redis is unreachable). */
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  /** The batch job chunk queue (JobRunner.queue), once started: metrics start before the job runner, to see every call from the first. */
  readonly jobQueue: () => WaitingChunkQueue | null;
  /** Instances whose Triton metrics are not on --triton-metrics-port: address -> port (the embedded local-triton's). */
  readonly tritonMetricsPorts: ReadonlyMap<string, number>;
  readonly logger: Logger;
  /** This process's quota admissions and script calls (QuotaAdmission.counts). */
  readonly admissionCounts: () => AdmissionCounts;
}

export interface MetricsSettings {
  readonly metricsKey: string;
  readonly metricsTenantLabelLimit: number;
  /** -1: Triton's metrics are not scraped (but on the ports of tritonMetricsPorts). */
  readonly tritonMetricsPort: number;
  readonly tritonMetricsIntervalMs: number;
}

/** triage's Prometheus metrics, running. */
export interface Metrics {
  /** GET /metrics, for the HTTP port. */
  readonly router: ExpressRouter;
  /** Add to the front doors' InferenceObservers. */
  readonly observer: InferenceObserver;
  /** Triton's own metrics, scraped; latest(address) for the dashboard. */
  readonly scraper: TritonMetricsScrape;
  /** This triage's registry (the process metrics are in processMetricsRegistry()). */
  readonly registry: Registry;
  /** Rows of batch jobs whose chunk this process's worker committed first. */
  countJobRows(completed: number, failed: number): void;
  /** Stops the Redis probe and the Triton scrapes and waits for reads in flight. Idempotent. */
  stop(): Promise<void>;
}

/**
 * Builds triage's metrics on a registry of its own (several triage servers may run in one
 * process: never prom-client's global registry) and starts what runs in the background:
 * the Redis probe (every 5 s) and the scrape of Triton's metrics.
 */
export function startMetrics(dependencies: MetricsDependencies, settings: MetricsSettings): Metrics {
  const logger = dependencies.logger.child({ component: 'metrics' });
  const registry = new Registry();
  const bounds = new LabelBounds({ tenantLimit: settings.metricsTenantLabelLimit, knowsModel: (model) => dependencies.pool.knows(model) });
  const observer = new InferenceMetrics(registry, bounds);
  registerAdmissionMetrics(registry, dependencies.admissionCounts);
  registerInstanceMetrics(registry, dependencies.pool);
  const placements = registerModelStateMetrics(registry, { store: dependencies.registryStore, cacheMs: REDIS_FIGURES_CACHE_MS, timeoutMs: REDIS_READ_TIMEOUT_MS });
  const jobs = registerJobMetrics(registry, {
    reader: new JobQueueReader(dependencies.redis, dependencies.keys, dependencies.jobQueue),
    cacheMs: REDIS_FIGURES_CACHE_MS,
    timeoutMs: REDIS_READ_TIMEOUT_MS,
  });
  const probe = new RedisProbe(registry, dependencies.redis, { intervalMs: REDIS_PROBE_INTERVAL_MS, timeoutMs: REDIS_PROBE_TIMEOUT_MS });
  const scraper = new TritonMetricsScrape({
    pool: dependencies.pool,
    metricsPort: settings.tritonMetricsPort,
    metricsPorts: dependencies.tritonMetricsPorts,
    intervalMs: settings.tritonMetricsIntervalMs,
    timeoutMs: TRITON_SCRAPE_TIMEOUT_MS,
    logger: dependencies.logger.child({ component: 'triton-metrics-scrape' }),
  });
  registerTritonMetrics(registry, scraper);
  const router = metricsRouter({ registries: [registry, processMetricsRegistry()], key: settings.metricsKey, logger });
  probe.start();
  scraper.start();
  logger.info({ protected: settings.metricsKey !== '', tenantLabelLimit: settings.metricsTenantLabelLimit, tritonMetricsPort: settings.tritonMetricsPort }, 'metrics on GET /metrics');

  let stopping: Promise<void> | null = null;
  return {
    router,
    observer,
    scraper,
    registry,
    countJobRows: (completed, failed) => jobs.countRows(completed, failed),
    stop() {
      stopping ??= (async () => {
        await Promise.all([probe.stop(), scraper.stop(), placements.settled(), jobs.reading.settled()]);
      })();
      return stopping;
    },
  };
}
