import type { Logger } from '../observability/logger';
import type { RecencyStore } from '../registry/recency-store';

/**
 * When this proxy last used each model: noted in memory on the hot path (one Map set per
 * call), added to Redis every flushMs (RecencyStore.raise keeps the newest time across
 * proxies), and at once when a request waits for a model no instance holds (demand),
 * with a message that makes the controller reconcile now.
 *
 * Invariant: a time noted is written at least once unless the process dies first; a
 * failed write keeps the times for the next flush.
 */
export class RecencyRecorder {
  private pending = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private lastFailure = '';

  constructor(
    private readonly store: Pick<RecencyStore, 'raise' | 'announceDemand'>,
    private readonly flushMs: number,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  start(): void {
    this.timer ??= setInterval(() => { void this.flush(); }, this.flushMs);
  }

  /** Stops the timer and writes what is pending. */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  /** A request used the model at timeMs (ms since the epoch). */
  note(model: string, timeMs: number): void {
    this.pending.set(model, timeMs);
  }

  /**
   * A request waits for the model: it counts as used now, the time is written at once and
   * the controller is told. Rejects when Redis cannot be reached (the time stays pending).
   */
  async demand(model: string): Promise<void> {
    this.note(model, this.nowMs());
    if (!await this.flush()) throw new Error(`the last use of model '${model}' could not be written to Redis: ${this.lastFailure}`);
    await this.store.announceDemand(model);
  }

  /**
   * Writes the pending times, one write at a time (a caller during a write waits for it,
   * then writes what is still pending). Resolves false when the write failed.
   */
  async flush(): Promise<boolean> {
    while (this.flushing !== null) await this.flushing;
    if (this.pending.size === 0) return true;
    const batch = this.pending;
    this.pending = new Map();
    const written = this.write(batch);
    this.flushing = written.then(() => { this.flushing = null; });
    return written;
  }

  /** Never rejects: a failed batch goes back to pending (unless a newer time came meanwhile). */
  private async write(batch: Map<string, number>): Promise<boolean> {
    try {
      await this.store.raise(batch);
      this.lastFailure = '';
      return true;
    } catch (error) {
      for (const [model, timeMs] of batch) if ((this.pending.get(model) ?? -Infinity) < timeMs) this.pending.set(model, timeMs);
      const reason = (error as Error).message;
      if (reason !== this.lastFailure) this.logger.warn({ reason, models: batch.size }, 'model last-use times not written to Redis; retrying at the next flush');
      this.lastFailure = reason;
      return false;
    }
  }
}
