import { TriageError } from '../../errors/triage-error';
import type { Tensor } from '../../protocol/tensor';
import { concatBatch, splitBatch } from '../../protocol/tensor-batching';
import type { BackendInstance } from '../backends/backend-instance';
import type { BatchingPolicy } from '../models/model-spec';
import type { ComputeDurations, ModelStatistics } from '../statistics/model-statistics';
import { PriorityQueues, type QueuedRequest } from './priority-queues';
import { takeBatch } from './take-batch';

export interface ScheduleRequest {
  /** Config order, backend shapes; batch dimension first when the model batches. */
  readonly inputs: readonly Tensor[];
  /** Rows in this request (1 for a model that does not batch). */
  readonly batchSize: number;
  /** 0 = the default level. */
  readonly priority: number;
  /** Queue timeout in microseconds requested by the client; 0 = the model's default. */
  readonly timeoutUs: number;
  /** True once the caller has gone away; such a request is dropped, never executed. */
  readonly isCancelled: () => boolean;
}

export interface ExecutionOutcome {
  /** Every output of the config, in config order, for this request's rows only. */
  readonly outputs: Tensor[];
  readonly batchSize: number;
  readonly queueNs: bigint;
  readonly compute: ComputeDurations;
}

/**
 * Triton's schedulers for one model version: requests wait in priority queues and run
 * on the first free instance. With a batching policy (dynamic_batching), consecutive
 * compatible requests merge into one execution up to max_batch_size, dispatched at
 * once when the batch is full or hits a preferred size, otherwise when the oldest
 * request has waited max_queue_delay. Without one, each request executes alone.
 *
 * Invariants: an instance runs at most one batch at a time; every accepted request is
 * settled exactly once (result, backend error, timeout, cancellation or shutdown).
 */
export class ModelScheduler {
  private readonly idle: BackendInstance[];
  private readonly queues: PriorityQueues;
  private busy = 0;
  private timer: NodeJS.Timeout | null = null;
  private closing = false;
  private drained: (() => void) | null = null;

  constructor(
    instances: readonly BackendInstance[],
    private readonly policy: BatchingPolicy | null,
    private readonly maxBatchSize: number,
    private readonly statistics: ModelStatistics,
    private readonly nowNs: () => bigint = process.hrtime.bigint,
  ) {
    this.idle = [...instances];
    this.queues = new PriorityQueues(policy);
  }

  /** Requests waiting in the queues (Triton's nv_inference_pending_request_count). */
  get queuedCount(): number {
    return this.queues.size;
  }

  /** Requests waiting plus batches executing: zero exactly when the scheduler is idle. */
  get pendingCount(): number {
    return this.queues.size + this.busy;
  }

  schedule(request: ScheduleRequest): Promise<ExecutionOutcome> {
    if (this.closing) {
      return Promise.reject(new TriageError('UNAVAILABLE', 'model is unloading; the request was not accepted'));
    }
    return new Promise((resolve, reject) => {
      const queued: QueuedRequest = {
        request,
        signature: shapeSignature(request.inputs),
        enqueuedNs: this.nowNs(),
        timeoutNs: this.queues.timeoutNs(request),
        resolve,
        reject,
      };
      const refusal = this.queues.push(queued);
      if (refusal !== null) { reject(refusal); return; }
      this.dispatch();
    });
  }

  /** Stops accepting requests; resolves once every accepted request has settled. */
  drain(): Promise<void> {
    this.closing = true;
    if (this.queues.size === 0 && this.busy === 0) return Promise.resolve();
    return new Promise((resolve) => { this.drained = resolve; });
  }

  private dispatch(): void {
    if (this.timer !== null) { clearTimeout(this.timer); this.timer = null; }
    const now = this.nowNs();
    this.queues.dropStale(now);
    while (this.idle.length > 0 && this.queues.size > 0) {
      const decision = takeBatch(this.queues, this.policy, this.maxBatchSize, now, this.closing);
      if (decision.batch === null) {
        this.timer = setTimeout(() => this.dispatch(), Math.max(1, Math.ceil(Number(decision.waitNs) / 1e6)));
        break;
      }
      const instance = this.idle.pop() as BackendInstance;
      this.busy += 1;
      void this.execute(instance, decision.batch, now);
    }
    this.checkDrained();
  }

  private async execute(instance: BackendInstance, batch: QueuedRequest[], startNs: bigint): Promise<void> {
    try {
      const inputCount = batch[0]?.request.inputs.length ?? 0;
      const inputs: Tensor[] = [];
      for (let index = 0; index < inputCount; index++) {
        inputs.push(concatBatch(batch.map((queued) => queued.request.inputs[index] as Tensor)));
      }
      const inputDoneNs = this.nowNs();
      const outputs = await instance.execute(inputs);
      const inferDoneNs = this.nowNs();
      const sizes = batch.map((queued) => queued.request.batchSize);
      const perRequest = this.maxBatchSize > 0 && batch.length > 1
        ? outputs.map((output) => splitBatch(output, sizes))
        : outputs.map((output) => [output]);
      const outputDoneNs = this.nowNs();
      const compute: ComputeDurations = {
        inputNs: inputDoneNs - startNs,
        inferNs: inferDoneNs - inputDoneNs,
        outputNs: outputDoneNs - inferDoneNs,
      };
      const totalRows = sizes.reduce((sum, size) => sum + size, 0);
      this.statistics.recordExecution(this.maxBatchSize > 0 ? totalRows : 1, compute);
      batch.forEach((queued, index) => {
        queued.resolve({
          outputs: perRequest.map((pieces) => pieces[index] as Tensor),
          batchSize: queued.request.batchSize,
          queueNs: startNs - queued.enqueuedNs,
          compute,
        });
      });
    } catch (error) {
      const failure = new TriageError('INTERNAL', error instanceof Error ? error.message : String(error), { cause: error });
      for (const queued of batch) queued.reject(failure);
    } finally {
      this.busy -= 1;
      this.idle.push(instance);
      this.dispatch();
    }
  }

  private checkDrained(): void {
    if (this.drained !== null && this.queues.size === 0 && this.busy === 0) {
      const resolve = this.drained;
      this.drained = null;
      resolve();
    }
  }
}

/** Requests batch together only when every input has the same non-batch dims. */
function shapeSignature(inputs: readonly Tensor[]): string {
  let signature = '';
  for (const input of inputs) signature += `${input.shape.slice(1).join('x')};`;
  return signature;
}
