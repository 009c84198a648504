import { Counter, Gauge, type Registry } from 'prom-client';
import type { InstanceScrape } from '../../triton/triton-metrics-scrape';
import { METRIC } from './metric-names';

/** What the Triton metrics are read from: the scraper's last scrape of each pool instance. */
export interface ScrapeSource {
  current(): ReadonlyMap<string, InstanceScrape>;
}

/**
 * Triton's own figures, as last scraped (TritonMetricsScrape), with an `instance` label:
 * scrape health, GPU utilization and memory, CPU memory, per-model inference counts and
 * queue time. Figures are shown only for instances whose last scrape worked (stale
 * figures would hide an outage); triage_triton_scrape_up says which.
 * The two `_total` series mirror Triton's counters (reset when Triton restarts).
 */
export function registerTritonMetrics(registry: Registry, source: ScrapeSource): void {
  const registers = [registry];
  const live = function* (): Generator<[string, NonNullable<InstanceScrape['figures']>]> {
    for (const [instance, scrape] of source.current()) if (scrape.up && scrape.figures !== null) yield [instance, scrape.figures];
  };
  new Gauge({
    name: METRIC.tritonScrapeUp, help: '1 when the last scrape of the instance\'s Triton metrics worked, else 0.', labelNames: ['triton_instance'], registers,
    collect() {
      this.reset();
      for (const [instance, scrape] of source.current()) this.labels(instance).set(scrape.up ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC.tritonGpuUtilization, help: 'GPU utilization, 0 to 1 (Triton\'s nv_gpu_utilization).', labelNames: ['triton_instance', 'gpu'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) for (const gpu of figures.gpu) if (gpu.utilization !== null) this.labels(instance, gpu.uuid).set(gpu.utilization);
    },
  });
  new Gauge({
    name: METRIC.tritonGpuMemoryUsed, help: 'GPU memory in use, bytes (Triton\'s nv_gpu_memory_used_bytes).', labelNames: ['triton_instance', 'gpu'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) for (const gpu of figures.gpu) if (gpu.memory_used_bytes !== null) this.labels(instance, gpu.uuid).set(gpu.memory_used_bytes);
    },
  });
  new Gauge({
    name: METRIC.tritonGpuMemoryTotal, help: 'GPU memory in all, bytes (Triton\'s nv_gpu_memory_total_bytes).', labelNames: ['triton_instance', 'gpu'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) for (const gpu of figures.gpu) if (gpu.memory_total_bytes !== null) this.labels(instance, gpu.uuid).set(gpu.memory_total_bytes);
    },
  });
  new Gauge({
    name: METRIC.tritonCpuMemoryUsed, help: 'CPU memory in use on the instance\'s host, bytes (Triton\'s nv_cpu_memory_used_bytes).', labelNames: ['triton_instance'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) if (figures.cpu_memory_used_bytes !== null) this.labels(instance).set(figures.cpu_memory_used_bytes);
    },
  });
  new Counter({
    name: METRIC.tritonInferenceCount, help: 'Inferences the instance performed per model, all versions (Triton\'s nv_inference_count).', labelNames: ['triton_instance', 'model'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) for (const model of figures.models) this.labels(instance, model.model).inc(model.inference_count);
    },
  });
  new Counter({
    name: METRIC.tritonQueueDuration, help: 'Time requests waited in the instance\'s queues per model, all versions, seconds (Triton\'s nv_inference_queue_duration_us).', labelNames: ['triton_instance', 'model'], registers,
    collect() {
      this.reset();
      for (const [instance, figures] of live()) for (const model of figures.models) this.labels(instance, model.model).inc(model.queue_seconds);
    },
  });
}
