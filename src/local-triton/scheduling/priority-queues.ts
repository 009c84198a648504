import { TriageError } from '../../errors/triage-error';
import type { BatchingPolicy } from '../models/model-spec';
import type { ExecutionOutcome, ScheduleRequest } from './model-scheduler';

export interface QueuedRequest {
  readonly request: ScheduleRequest;
  readonly signature: string;
  readonly enqueuedNs: bigint;
  /** 0n = no timeout. */
  readonly timeoutNs: bigint;
  resolve(outcome: ExecutionOutcome): void;
  reject(error: Error): void;
}

/**
 * FIFO queues, one per priority level (index 0 = highest priority). Applies the
 * queue policy of dynamic_batching: max_queue_size and request timeouts.
 */
export class PriorityQueues {
  private readonly levels: QueuedRequest[][];
  private count = 0;

  constructor(private readonly policy: BatchingPolicy | null) {
    const levelCount = policy !== null && policy.priorityLevels > 0 ? policy.priorityLevels : 1;
    this.levels = Array.from({ length: levelCount }, () => []);
  }

  get size(): number {
    return this.count;
  }

  /**
   * Triton's rule: the model's default timeout applies; a request's own `timeout` replaces
   * it only when the policy allows overriding, and only to shorten it (a default of 0
   * means no timeout, so any request timeout is shorter).
   */
  timeoutNs(request: ScheduleRequest): bigint {
    const defaultUs = this.policy?.defaultTimeoutUs ?? 0;
    const requested = request.timeoutUs;
    const overrides = this.policy?.allowTimeoutOverride === true && requested > 0 && (defaultUs === 0 || requested < defaultUs);
    return BigInt(overrides ? requested : defaultUs) * 1000n;
  }

  /** Adds a request; returns the error to answer with when the queue is full. */
  push(queued: QueuedRequest): TriageError | null {
    const level = this.levelOf(queued.request.priority);
    const maxQueueSize = this.policy?.maxQueueSize ?? 0;
    const queue = this.levels[level] as QueuedRequest[];
    if (maxQueueSize > 0 && queue.length >= maxQueueSize) {
      return new TriageError('UNAVAILABLE', 'Exceeds maximum queue size');
    }
    queue.push(queued);
    this.count += 1;
    return null;
  }

  /** The highest-priority non-empty queue, or undefined. */
  firstQueue(): QueuedRequest[] | undefined {
    return this.levels.find((queue) => queue.length > 0);
  }

  /** Removes the first n requests of a queue returned by firstQueue. */
  take(queue: QueuedRequest[], n: number): QueuedRequest[] {
    this.count -= n;
    return queue.splice(0, n);
  }

  /** Settles and removes cancelled requests and those whose timeout expired, anywhere in the queues. */
  dropStale(nowNs: bigint): void {
    if (this.count === 0) return;
    for (const queue of this.levels) {
      for (let index = queue.length - 1; index >= 0; index--) {
        const queued = queue[index] as QueuedRequest;
        if (queued.request.isCancelled()) {
          queue.splice(index, 1);
          this.count -= 1;
          queued.reject(new TriageError('CANCELLED', 'request was cancelled while queued'));
        } else if (queued.timeoutNs > 0n && nowNs - queued.enqueuedNs > queued.timeoutNs) {
          queue.splice(index, 1);
          this.count -= 1;
          queued.reject(new TriageError('UNAVAILABLE', 'Request timeout expired'));
        }
      }
    }
  }

  private levelOf(priority: number): number {
    const policy = this.policy;
    if (policy === null || policy.priorityLevels === 0) return 0;
    const level = priority === 0 ? policy.defaultPriorityLevel : Math.min(priority, policy.priorityLevels);
    return Math.max(1, level) - 1;
  }
}
