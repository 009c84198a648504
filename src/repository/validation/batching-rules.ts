import type { ModelConfigObject, QueuePolicyConfig } from '../../local-triton/models/model-config-types';
import type { ProblemReport } from './validation-problem';

/**
 * Triton's checks of max_batch_size and the dynamic batcher: max_batch_size >= 0; preferred
 * batch sizes in [1, max_batch_size] (so a model that does not batch, max_batch_size 0, can
 * have none); default_priority_level and every priority_queue_policy key in
 * [1, priority_levels]; preserve_ordering without several priority levels or DELAY timeouts.
 */
export function checkBatching(config: ModelConfigObject, report: ProblemReport): void {
  const maxBatchSize = config.max_batch_size ?? 0;
  if (maxBatchSize < 0) report('max_batch_size', 'max-batch-size', `max_batch_size must be >= 0 (0: the model does not batch), got ${maxBatchSize}`);
  const batching = config.dynamic_batching;
  if (batching === undefined) return;
  checkPreferredSizes(batching.preferred_batch_size ?? [], 'dynamic_batching.preferred_batch_size', maxBatchSize, report);
  const levels = Number(batching.priority_levels ?? 0);
  if (levels > 0) {
    const level = Number(batching.default_priority_level ?? 0);
    if (level < 1 || level > levels) {
      report('dynamic_batching.default_priority_level', 'priority-level', `dynamic_batching default_priority_level must be in [1, ${levels}] (priority_levels), got ${level}`);
    }
    for (const key of Object.keys(batching.priority_queue_policy ?? {})) {
      if (Number(key) < 1 || Number(key) > levels) {
        report(`dynamic_batching.priority_queue_policy[${key}]`, 'priority-level', `dynamic_batching priority_queue_policy has level ${key}, outside [1, ${levels}] (priority_levels)`);
      }
    }
  }
  if (batching.preserve_ordering === true) {
    if (levels > 1) report('dynamic_batching.preserve_ordering', 'preserve-ordering', `dynamic_batching preserve_ordering allows one priority level, but priority_levels is ${levels}`);
    const policies: [string, QueuePolicyConfig][] = [
      ['dynamic_batching.default_queue_policy', batching.default_queue_policy ?? {}],
      ...Object.entries(batching.priority_queue_policy ?? {}).map(([key, policy]): [string, QueuePolicyConfig] => [`dynamic_batching.priority_queue_policy[${key}]`, policy]),
    ];
    for (const [path, policy] of policies) {
      if (policy.timeout_action === 'DELAY' && Number(policy.default_timeout_microseconds ?? 0) !== 0) {
        report(path, 'preserve-ordering', `${path} delays timed-out requests (timeout_action DELAY), which preserve_ordering does not allow`);
      }
    }
  }
}

export function checkPreferredSizes(sizes: readonly number[], path: string, maxBatchSize: number, report: ProblemReport): void {
  sizes.forEach((size, index) => {
    if (size >= 1 && size <= maxBatchSize) return;
    report(`${path}[${index}]`, 'preferred-batch-size', maxBatchSize <= 0
      ? `${path} is set (${size}), but max_batch_size is ${maxBatchSize}: a model that does not batch has no preferred batch size`
      : `${path} ${size} must be between 1 and max_batch_size ${maxBatchSize}`);
  });
}

/** The response cache works neither with the sequence batcher nor with decoupled models. */
export function checkResponseCache(config: ModelConfigObject, report: ProblemReport): void {
  const cache = config['response_cache'] as { enable?: boolean } | undefined;
  if (cache?.enable !== true) return;
  if (config.sequence_batching !== undefined) {
    report('response_cache.enable', 'response-cache', 'response_cache cannot be enabled for a model with sequence_batching');
  }
  const policy = config['model_transaction_policy'] as { decoupled?: boolean } | undefined;
  if (policy?.decoupled === true) {
    report('response_cache.enable', 'response-cache', 'response_cache cannot be enabled for a decoupled model (model_transaction_policy decoupled: true)');
  }
}
