import type { TritonInstance } from '../triton/triton-instance';

interface Entry {
  instance: TritonInstance;
  lastUsedMs: number;
}

/**
 * sequence_id -> the instance that holds the sequence's state. Entries idle longer than
 * idleMs are forgotten lazily (on lookup, and by a sweep every 1,024 writes), so the
 * table needs no timer and stays bounded by the number of live sequences.
 */
export class SequenceTable {
  private readonly entries = new Map<string, Entry>();
  private writes = 0;

  constructor(private readonly idleMs: number, private readonly nowMs: () => number = Date.now) {}

  get(id: string): TritonInstance | undefined {
    const entry = this.entries.get(id);
    if (entry === undefined) return undefined;
    if (this.nowMs() - entry.lastUsedMs > this.idleMs) {
      this.entries.delete(id);
      return undefined;
    }
    return entry.instance;
  }

  set(id: string, instance: TritonInstance): void {
    this.entries.set(id, { instance, lastUsedMs: this.nowMs() });
    if (++this.writes % 1024 === 0) this.sweep();
  }

  delete(id: string): void {
    this.entries.delete(id);
  }

  get size(): number {
    return this.entries.size;
  }

  clear(): void {
    this.entries.clear();
  }

  private sweep(): void {
    const now = this.nowMs();
    for (const [id, entry] of this.entries) if (now - entry.lastUsedMs > this.idleMs) this.entries.delete(id);
  }
}
