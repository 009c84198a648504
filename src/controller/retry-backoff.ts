export interface RetryBackoffOptions {
  /** Delay after the first failure, ms; it doubles with each failure in a row. */
  readonly minMs: number;
  readonly maxMs: number;
}

interface Failure {
  readonly count: number;
  readonly notBeforeMs: number;
  /** What was attempted (a load signature, or 'unload'): a different attempt is not held back. */
  readonly attempt: string;
}

/**
 * Backoff of failed loads and unloads per (model, instance): after n failures in a row
 * the same attempt waits minMs * 2^(n-1), at most maxMs. A success, or a different
 * attempt (a new config or version), starts again from nothing.
 */
export class RetryBackoff {
  private readonly failures = new Map<string, Failure>();

  constructor(private readonly options: RetryBackoffOptions) {}

  /** True while `attempt` on (model, instance) must wait. */
  blocked(model: string, instance: string, attempt: string, nowMs: number): boolean {
    const failure = this.failures.get(key(model, instance));
    return failure !== undefined && failure.attempt === attempt && nowMs < failure.notBeforeMs;
  }

  /** Records a failure; returns the delay before the next try, ms. */
  failed(model: string, instance: string, attempt: string, nowMs: number): number {
    const previous = this.failures.get(key(model, instance));
    const count = previous !== undefined && previous.attempt === attempt ? previous.count + 1 : 1;
    const delayMs = Math.min(this.options.maxMs, this.options.minMs * 2 ** Math.min(count - 1, 30));
    this.failures.set(key(model, instance), { count, notBeforeMs: nowMs + delayMs, attempt });
    return delayMs;
  }

  succeeded(model: string, instance: string): void {
    this.failures.delete(key(model, instance));
  }

  clear(): void {
    this.failures.clear();
  }
}

function key(model: string, instance: string): string {
  return `${model}\u0000${instance}`;
}
