import type { BatchingPolicy } from '../models/model-spec';
import type { PriorityQueues, QueuedRequest } from './priority-queues';

export type BatchDecision =
  | { readonly batch: QueuedRequest[]; readonly waitNs: 0n }
  | { readonly batch: null; readonly waitNs: bigint };

/**
 * Decides what the next free instance runs. Without batching: the first request. With
 * batching: the longest run of consecutive compatible requests from the head that fits
 * max_batch_size; it goes now when it cannot grow (full, or the next request does not
 * fit or has other shapes), when its size is a preferred batch size (or it has grown
 * past one: then that prefix goes), when the oldest
 * request has waited max_queue_delay, or when the scheduler is draining. Otherwise the
 * caller waits `waitNs` (or for the next arrival) and asks again.
 */
export function takeBatch(
  queues: PriorityQueues,
  policy: BatchingPolicy | null,
  maxBatchSize: number,
  nowNs: bigint,
  flush: boolean,
): BatchDecision {
  const queue = queues.firstQueue();
  if (queue === undefined) return { batch: null, waitNs: 0n };
  const head = queue[0] as QueuedRequest;
  if (policy === null) return { batch: queues.take(queue, 1), waitNs: 0n };

  let rows = 0;
  let count = 0;
  let preferredCount = 0;
  let canGrow = true;
  for (const queued of queue) {
    if (queued.signature !== head.signature || rows + queued.request.batchSize > maxBatchSize) {
      canGrow = false;
      break;
    }
    rows += queued.request.batchSize;
    count += 1;
    if (policy.preferredBatchSizes.includes(rows)) preferredCount = count;
  }
  if (rows === maxBatchSize) canGrow = false;
  const waitedNs = nowNs - head.enqueuedNs;
  const delayNs = BigInt(policy.maxQueueDelayUs) * 1000n;
  if (!canGrow || flush || preferredCount === count || waitedNs >= delayNs) {
    return { batch: queues.take(queue, count), waitNs: 0n };
  }
  // Grown past a preferred size: send that prefix now rather than wait for more.
  if (preferredCount > 0) return { batch: queues.take(queue, preferredCount), waitNs: 0n };
  return { batch: null, waitNs: delayNs - waitedNs };
}
