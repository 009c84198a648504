import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import type { BatchingPolicy } from '../../src/local-triton/models/model-spec';
import { PriorityQueues, type QueuedRequest } from '../../src/local-triton/scheduling/priority-queues';
import { takeBatch } from '../../src/local-triton/scheduling/take-batch';

const policy = (overrides: Partial<BatchingPolicy> = {}): BatchingPolicy => ({
  preferredBatchSizes: [],
  maxQueueDelayUs: 1000,
  priorityLevels: 0,
  defaultPriorityLevel: 0,
  maxQueueSize: 0,
  defaultTimeoutUs: 0,
  allowTimeoutOverride: false,
  ...overrides,
});

const settled: string[] = [];
function queued(label: string, rows: number, enqueuedNs: bigint, extra: { signature?: string; priority?: number; timeoutUs?: number; cancelled?: boolean } = {}): QueuedRequest {
  return {
    request: { inputs: [], batchSize: rows, priority: extra.priority ?? 0, timeoutUs: extra.timeoutUs ?? 0, isCancelled: () => extra.cancelled === true },
    signature: extra.signature ?? '16;',
    enqueuedNs,
    timeoutNs: BigInt(extra.timeoutUs ?? 0) * 1000n,
    resolve: () => settled.push(`${label}:ok`),
    reject: (error: Error) => settled.push(`${label}:${error.message}`),
  };
}

const labels = (batch: QueuedRequest[] | null): number[] | null => batch?.map((q) => q.request.batchSize) ?? null;

describe('dynamic batcher decisions (fake clock)', () => {
  it('waits for max_queue_delay when the batch could still grow, then sends what it has', () => {
    const queues = new PriorityQueues(policy());
    queues.push(queued('a', 1, 0n));
    queues.push(queued('b', 2, 100_000n));
    const early = takeBatch(queues, policy(), 8, 400_000n, false);
    assert.equal(early.batch, null);
    assert.equal(early.waitNs, 600_000n);
    const late = takeBatch(queues, policy(), 8, 1_000_000n, false);
    assert.deepEqual(labels(late.batch), [1, 2]);
    assert.equal(queues.size, 0);
  });

  it('sends at once when the batch is full, and never exceeds max_batch_size', () => {
    const queues = new PriorityQueues(policy());
    for (const rows of [3, 3, 2, 1]) queues.push(queued('r', rows, 0n));
    assert.deepEqual(labels(takeBatch(queues, policy(), 8, 0n, false).batch), [3, 3, 2]);
    assert.equal(takeBatch(queues, policy(), 8, 0n, false).batch, null, 'one row left, waiting for more');
  });

  it('sends a preferred batch size at once, or the preferred prefix when it has grown past it', () => {
    const p = policy({ preferredBatchSizes: [4], maxQueueDelayUs: 10_000_000 });
    const queues = new PriorityQueues(p);
    for (let i = 0; i < 4; i++) queues.push(queued('r', 1, 0n));
    assert.deepEqual(labels(takeBatch(queues, p, 16, 0n, false).batch), [1, 1, 1, 1]);
    for (const rows of [2, 2, 1]) queues.push(queued('r', rows, 0n));
    assert.deepEqual(labels(takeBatch(queues, p, 16, 0n, false).batch), [2, 2]);
  });

  it('does not merge requests whose non-batch shapes differ', () => {
    const queues = new PriorityQueues(policy());
    queues.push(queued('a', 1, 0n, { signature: '3;' }));
    queues.push(queued('b', 1, 0n, { signature: '5;' }));
    assert.deepEqual(labels(takeBatch(queues, policy(), 8, 0n, false).batch), [1]);
  });

  it('serves the highest priority level first', () => {
    const p = policy({ priorityLevels: 2, defaultPriorityLevel: 2, maxQueueDelayUs: 0 });
    const queues = new PriorityQueues(p);
    queues.push(queued('low', 1, 0n, { priority: 2 }));
    queues.push(queued('default', 2, 0n));
    queues.push(queued('high', 3, 0n, { priority: 1 }));
    assert.deepEqual(labels(takeBatch(queues, p, 8, 0n, false).batch), [3]);
    assert.deepEqual(labels(takeBatch(queues, p, 8, 0n, false).batch), [1, 2]);
  });

  it('refuses beyond max_queue_size and expires requests past their timeout or cancelled', () => {
    settled.length = 0;
    const p = policy({ maxQueueSize: 2, defaultTimeoutUs: 500, allowTimeoutOverride: true });
    const queues = new PriorityQueues(p);
    const request = (timeoutUs: number) => ({ inputs: [], batchSize: 1, priority: 0, timeoutUs, isCancelled: () => false });
    assert.equal(queues.timeoutNs(request(0)), 500_000n, 'the default timeout applies when the request sets none');
    assert.equal(queues.timeoutNs(request(200)), 200_000n, 'allow_timeout_override lets a request shorten it');
    assert.equal(queues.timeoutNs(request(2000)), 500_000n, 'but never extend it');
    assert.equal(new PriorityQueues(policy({ defaultTimeoutUs: 500 })).timeoutNs(request(200)), 500_000n, 'without allow_timeout_override the default stands');
    assert.equal(queues.push(queued('a', 1, 0n, { timeoutUs: 500 })), null);
    assert.equal(queues.push(queued('b', 1, 0n, { cancelled: true })), null);
    assert.equal(queues.push(queued('c', 1, 0n))?.message, 'Exceeds maximum queue size');
    queues.dropStale(600_000n);
    assert.equal(queues.size, 0);
    assert.deepEqual(settled.sort(), ['a:Request timeout expired', 'b:request was cancelled while queued']);
  });

  it('without a batching policy, runs one request at a time in arrival order', () => {
    const queues = new PriorityQueues(null);
    queues.push(queued('a', 1, 0n));
    queues.push(queued('b', 1, 0n));
    assert.equal(takeBatch(queues, null, 0, 0n, false).batch?.length, 1);
    assert.equal(queues.size, 1);
  });
});
