import type { PrometheusSample } from './prometheus-text';

/** One GPU of an instance, from Triton's nv_gpu_* metrics (label gpu_uuid). */
export interface TritonGpuFigures {
  /** Position in the order Triton lists its GPUs ("0", "1", ...). */
  readonly index: string;
  readonly uuid: string;
  /** 0..1 (nv_gpu_utilization), or null when not reported. */
  readonly utilization: number | null;
  readonly memory_used_bytes: number | null;
  readonly memory_total_bytes: number | null;
}

/** One model's figures on an instance, summed over its versions. */
export interface TritonModelFigures {
  readonly model: string;
  /** Inferences performed (nv_inference_count; a batch of 8 counts 8). */
  readonly inference_count: number;
  /** Cumulative time requests waited in Triton's queues (nv_inference_queue_duration_us), in seconds. */
  readonly queue_seconds: number;
}

/**
 * What one scrape of an instance's Triton metrics says, in the dashboard's JSON shape
 * (snake_case, like the API it feeds: GET /v1/instances).
 */
export interface TritonFigures {
  /** When the scrape answered (epoch ms). */
  readonly scraped_at_ms: number;
  readonly gpu: readonly TritonGpuFigures[];
  readonly cpu_memory_used_bytes: number | null;
  readonly cpu_memory_total_bytes: number | null;
  readonly models: readonly TritonModelFigures[];
}

/** Sums Triton's samples into TritonFigures; samples of other names are ignored. */
export function tritonFigures(samples: readonly PrometheusSample[], scrapedAtMs: number): TritonFigures {
  const gpus = new Map<string, { utilization: number | null; used: number | null; total: number | null }>();
  const gpu = (uuid: string): { utilization: number | null; used: number | null; total: number | null } => {
    let figures = gpus.get(uuid);
    if (figures === undefined) {
      figures = { utilization: null, used: null, total: null };
      gpus.set(uuid, figures);
    }
    return figures;
  };
  const models = new Map<string, { count: number; queueUs: number }>();
  const model = (name: string): { count: number; queueUs: number } => {
    let figures = models.get(name);
    if (figures === undefined) {
      figures = { count: 0, queueUs: 0 };
      models.set(name, figures);
    }
    return figures;
  };
  let cpuUsed: number | null = null;
  let cpuTotal: number | null = null;
  for (const sample of samples) {
    if (!Number.isFinite(sample.value)) continue;
    const uuid = sample.labels.get('gpu_uuid');
    const modelName = sample.labels.get('model');
    switch (sample.name) {
      case 'nv_gpu_utilization':
        if (uuid !== undefined) gpu(uuid).utilization = sample.value;
        break;
      case 'nv_gpu_memory_used_bytes':
        if (uuid !== undefined) gpu(uuid).used = sample.value;
        break;
      case 'nv_gpu_memory_total_bytes':
        if (uuid !== undefined) gpu(uuid).total = sample.value;
        break;
      case 'nv_cpu_memory_used_bytes':
        cpuUsed = sample.value;
        break;
      case 'nv_cpu_memory_total_bytes':
        cpuTotal = sample.value;
        break;
      case 'nv_inference_count':
        if (modelName !== undefined) model(modelName).count += sample.value;
        break;
      case 'nv_inference_queue_duration_us':
        if (modelName !== undefined) model(modelName).queueUs += sample.value;
        break;
      default:
        break;
    }
  }
  return {
    scraped_at_ms: scrapedAtMs,
    gpu: [...gpus].map(([uuid, figures], index) => ({
      index: String(index), uuid, utilization: figures.utilization, memory_used_bytes: figures.used, memory_total_bytes: figures.total,
    })),
    cpu_memory_used_bytes: cpuUsed,
    cpu_memory_total_bytes: cpuTotal,
    models: [...models].map(([name, figures]) => ({ model: name, inference_count: figures.count, queue_seconds: figures.queueUs / 1e6 }))
      .sort((a, b) => a.model.localeCompare(b.model)),
  };
}

/** The GPU memory an instance reports in all (bytes, summed over its GPUs), or null when it reports no GPU memory. */
export function gpuMemoryTotalBytes(figures: TritonFigures | null): number | null {
  const totals = (figures?.gpu ?? []).map((gpu) => gpu.memory_total_bytes).filter((bytes): bytes is number => bytes !== null && bytes > 0);
  return totals.length === 0 ? null : totals.reduce((sum, bytes) => sum + bytes, 0);
}
