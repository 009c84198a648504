export interface CachedReadingOptions {
  /** A reading (or a failed one) is reused for this long. */
  readonly maxAgeMs: number;
  /** A read that takes longer answers null (it goes on, and the next caller may still use it). */
  readonly timeoutMs: number;
  readonly nowMs?: () => number;
}

/**
 * A figure read from Redis for /metrics, at most once per maxAgeMs however often it is
 * scraped (several Prometheus servers, a dashboard): concurrent callers share one read.
 * A failed or slow read gives null, so a scrape never fails or hangs because Redis is
 * down: the figures are then left out (better none than stale ones), and triage_redis_up
 * says why.
 */
export class CachedReading<T> {
  private value: T | null = null;
  private readAtMs = Number.NEGATIVE_INFINITY;
  private reading: Promise<void> | null = null;
  private readonly nowMs: () => number;

  constructor(private readonly read: () => Promise<T>, private readonly options: CachedReadingOptions) {
    this.nowMs = options.nowMs ?? Date.now;
  }

  async get(): Promise<T | null> {
    if (this.nowMs() - this.readAtMs < this.options.maxAgeMs) return this.value;
    this.reading ??= this.read().then(
      (value) => { this.value = value; },
      () => { this.value = null; },
    ).finally(() => {
      this.readAtMs = this.nowMs();
      this.reading = null;
    });
    const reading = this.reading;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(true), this.options.timeoutMs); });
    const late = await Promise.race([reading.then(() => false), timedOut]);
    clearTimeout(timer);
    return late ? null : this.value;
  }

  /** Resolves once no read is running (stop() waits for it, so no command goes out after the connection closes). */
  async settled(): Promise<void> {
    await this.reading;
  }
}
