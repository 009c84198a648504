import { Counter, Gauge, type Registry } from 'prom-client';
import { CachedReading } from './cached-reading';
import type { JobQueueFigures, JobQueueReader } from './job-queue-reader';
import { METRIC } from './metric-names';

export interface JobMetricsOptions {
  readonly reader: Pick<JobQueueReader, 'read'>;
  readonly cacheMs: number;
  readonly timeoutMs: number;
}

/** The job metrics: what Redis says (read at scrape time, at most once per cacheMs) and the rows this process ran. */
export interface JobMetrics {
  /** Counts rows whose chunk this process committed first (a chunk run twice counts once, where it was committed). */
  countRows(completed: number, failed: number): void;
  readonly reading: CachedReading<JobQueueFigures>;
}

/**
 * triage_jobs{state}, triage_job_queue_depth and triage_job_queue_oldest_age_seconds come
 * from Redis and are the same on every replica (use max, not sum, across them);
 * triage_job_rows_total{outcome} counts the rows this process's worker executed, so the
 * sum over replicas is exact.
 */
export function registerJobMetrics(registry: Registry, options: JobMetricsOptions): JobMetrics {
  const registers = [registry];
  const reading = new CachedReading(() => options.reader.read(), { maxAgeMs: options.cacheMs, timeoutMs: options.timeoutMs });
  new Gauge({
    name: METRIC.jobs, help: 'Batch job records by status (the same figure on every replica).', labelNames: ['state'], registers,
    async collect() {
      const figures = await reading.get();
      this.reset();
      for (const [status, count] of figures?.byStatus ?? []) this.labels(status).set(count);
    },
  });
  new Gauge({
    name: METRIC.jobQueueDepth, help: 'Chunks of batch jobs waiting to run: in the tenants\' backlogs and waiting in the chunk queue.', registers,
    async collect() {
      // NaN (unknown) when Redis could not be read: never a reassuring 0.
      this.set((await reading.get())?.depth ?? Number.NaN);
    },
  });
  new Gauge({
    name: METRIC.jobQueueOldestAge, help: 'Seconds since the oldest job with a chunk still waiting was queued (0 when nothing waits).', registers,
    async collect() {
      this.set((await reading.get())?.oldestAgeSeconds ?? Number.NaN);
    },
  });
  const rows = new Counter({ name: METRIC.jobRows, help: 'Rows of batch jobs this process executed, by outcome (completed or failed).', labelNames: ['outcome'], registers });
  const completedRows = rows.labels('completed');
  const failedRows = rows.labels('failed');
  completedRows.inc(0);
  failedRows.inc(0);
  return {
    reading,
    countRows(completed, failed) {
      if (completed > 0) completedRows.inc(completed);
      if (failed > 0) failedRows.inc(failed);
    },
  };
}
