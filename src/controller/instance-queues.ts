interface InstanceQueue {
  /** Models waiting, in arrival order (a Set keeps insertion order). */
  readonly waiting: Set<string>;
  running: string | null;
}

/**
 * One load or unload at a time per instance. A model is queued at most once per instance
 * (coalesced): the work reads the latest desired state when it runs, so however many
 * changes arrived while it waited, it acts once, on the newest.
 *
 * Invariant: for each instance at most one `work` promise is pending.
 */
export class InstanceQueues {
  private readonly queues = new Map<string, InstanceQueue>();
  private readonly active = new Set<Promise<void>>();

  constructor(private readonly work: (instance: string, model: string) => Promise<void>) {}

  /** Queues the model on the instance unless it is already waiting or running there. */
  enqueue(instance: string, model: string): void {
    let queue = this.queues.get(instance);
    if (queue === undefined) {
      queue = { waiting: new Set(), running: null };
      this.queues.set(instance, queue);
    }
    if (queue.running === model || queue.waiting.has(model)) return;
    queue.waiting.add(model);
    if (queue.running === null) this.pump(instance, queue);
  }

  /** True while the model waits or runs on the instance. */
  busy(instance: string, model: string): boolean {
    const queue = this.queues.get(instance);
    return queue !== undefined && (queue.running === model || queue.waiting.has(model));
  }

  /** Models waiting or running on the instance. */
  pending(instance: string): string[] {
    const queue = this.queues.get(instance);
    if (queue === undefined) return [];
    return queue.running === null ? [...queue.waiting] : [queue.running, ...queue.waiting];
  }

  /** Drops everything waiting (what runs finishes). */
  clearWaiting(): void {
    for (const queue of this.queues.values()) queue.waiting.clear();
  }

  /** Resolves once nothing runs. */
  async idle(): Promise<void> {
    while (this.active.size > 0) await Promise.all([...this.active]);
  }

  private pump(instance: string, queue: InstanceQueue): void {
    const next = queue.waiting.values().next();
    if (next.done === true) {
      queue.running = null;
      if (queue.waiting.size === 0) this.queues.delete(instance);
      return;
    }
    const model = next.value;
    queue.waiting.delete(model);
    queue.running = model;
    const done = this.work(instance, model)
      .catch(() => undefined)
      .then(() => {
        this.active.delete(done);
        this.pump(instance, queue);
      });
    this.active.add(done);
  }
}
