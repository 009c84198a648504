/** A count and a summed duration, as Triton's StatisticDuration. */
export class DurationStat {
  count = 0;
  ns = 0n;

  add(durationNs: bigint): void {
    this.count += 1;
    this.ns += durationNs;
  }

  toMessage(): { count: number; ns: string } {
    return { count: this.count, ns: this.ns.toString() };
  }
}

/** Durations of the three compute phases of one execution. */
export interface ComputeDurations {
  readonly inputNs: bigint;
  readonly inferNs: bigint;
  readonly outputNs: bigint;
}

export type FailureReason = 'REJECTED' | 'CANCELED' | 'BACKEND' | 'OTHER';

class BatchStat {
  readonly computeInput = new DurationStat();
  readonly computeInfer = new DurationStat();
  readonly computeOutput = new DurationStat();
}

/**
 * The statistics of one model version, with Triton's meaning: success/fail cover a
 * request end to end, queue and compute_* are counted once per successful request (a
 * batched request counts its whole batch's compute time), inference_count is the sum of
 * batch sizes, execution_count the number of backend executions, batch_stats one entry
 * per executed batch size.
 */
export class ModelStatistics {
  readonly success = new DurationStat();
  readonly fail = new DurationStat();
  readonly queue = new DurationStat();
  readonly computeInput = new DurationStat();
  readonly computeInfer = new DurationStat();
  readonly computeOutput = new DurationStat();
  readonly failuresByReason = new Map<FailureReason, number>();
  inferenceCount = 0;
  executionCount = 0;
  lastInferenceMs = 0;
  private readonly batches = new Map<number, BatchStat>();

  /**
   * Memory the version took at load, as Triton's memory_usage reports it: one entry per
   * kind of memory (local-triton: CPU, the weights its instances hold), set once at load.
   */
  memoryUsage: readonly { readonly type: 'CPU' | 'CPU_PINNED' | 'GPU'; readonly id: number; readonly byteSize: number }[] = [];

  constructor(private readonly nowMs: () => number = Date.now) {}

  recordExecution(batchSize: number, durations: ComputeDurations): void {
    this.executionCount += 1;
    let batch = this.batches.get(batchSize);
    if (batch === undefined) {
      batch = new BatchStat();
      this.batches.set(batchSize, batch);
    }
    batch.computeInput.add(durations.inputNs);
    batch.computeInfer.add(durations.inferNs);
    batch.computeOutput.add(durations.outputNs);
  }

  recordSuccess(requestNs: bigint, queueNs: bigint, batchSize: number, durations: ComputeDurations): void {
    this.success.add(requestNs);
    this.queue.add(queueNs);
    this.computeInput.add(durations.inputNs);
    this.computeInfer.add(durations.inferNs);
    this.computeOutput.add(durations.outputNs);
    this.inferenceCount += batchSize;
    this.lastInferenceMs = this.nowMs();
  }

  recordFailure(requestNs: bigint, reason: FailureReason): void {
    this.fail.add(requestNs);
    this.failuresByReason.set(reason, (this.failuresByReason.get(reason) ?? 0) + 1);
    this.lastInferenceMs = this.nowMs();
  }

  /** The inference.ModelStatistics message. */
  toMessage(name: string, version: string): Record<string, unknown> {
    return {
      name,
      version,
      last_inference: this.lastInferenceMs,
      inference_count: this.inferenceCount,
      execution_count: this.executionCount,
      inference_stats: {
        success: this.success.toMessage(),
        fail: this.fail.toMessage(),
        queue: this.queue.toMessage(),
        compute_input: this.computeInput.toMessage(),
        compute_infer: this.computeInfer.toMessage(),
        compute_output: this.computeOutput.toMessage(),
        cache_hit: { count: 0, ns: '0' },
        cache_miss: { count: 0, ns: '0' },
      },
      batch_stats: [...this.batches.entries()]
        .sort(([a], [b]) => a - b)
        .map(([batchSize, stat]) => ({
          batch_size: batchSize,
          compute_input: stat.computeInput.toMessage(),
          compute_infer: stat.computeInfer.toMessage(),
          compute_output: stat.computeOutput.toMessage(),
        })),
      memory_usage: this.memoryUsage.map((usage) => ({ type: usage.type, id: usage.id, byte_size: String(usage.byteSize) })),
      response_stats: {},
    };
  }
}
