import type { JobStore } from './job-store';
import { packChunk } from './packed-rows';

/**
 * Cuts a job's rows (each packed by packRow) into chunks of `chunkRows` (packChunk) and
 * stores each, encrypted, as soon as it is full: at most one chunk is ever held. Until the
 * job is committed the chunks expire by themselves after `ttlMs`; `discard` deletes every
 * chunk written, so a refused job leaves nothing behind.
 */
export class ChunkWriter {
  private rows: Buffer[] = [];
  private written = 0;
  private discarded = false;

  constructor(private readonly store: Pick<JobStore, 'putInput' | 'keys'>, private readonly redis: { del(...keys: string[]): Promise<number> },
    private readonly jobId: string, readonly chunkRows: number, private readonly ttlMs: number) {}

  /** Chunks stored so far. */
  get chunks(): number {
    return this.written;
  }

  /** Adds one packed row; stores the chunk when it is full. */
  async add(row: Buffer): Promise<void> {
    if (this.discarded) return;
    this.rows.push(row);
    if (this.rows.length >= this.chunkRows) await this.flush();
  }

  /** Stores the last, partial chunk. */
  async flush(): Promise<void> {
    if (this.discarded || this.rows.length === 0) return;
    const body = packChunk(this.rows);
    this.rows = [];
    const chunk = this.written;
    // Counted before the write: a write that fails half-way is deleted by discard too.
    this.written += 1;
    await this.store.putInput(this.jobId, chunk, body, this.ttlMs);
  }

  /** Deletes every chunk written and writes no more. Idempotent. */
  async discard(): Promise<void> {
    this.discarded = true;
    this.rows = [];
    const keys: string[] = [];
    for (let chunk = 0; chunk < this.written; chunk++) keys.push(this.store.keys.jobInput(this.jobId, chunk));
    this.written = 0;
    for (let first = 0; first < keys.length; first += 1000) await this.redis.del(...keys.slice(first, first + 1000));
  }
}

/** Rows per chunk: the setting when given, else 4 x max_batch_size between 16 and 512 (64 for a model that does not batch). */
export function chunkRowsFor(setting: number, maxBatchSize: number): number {
  if (setting > 0) return setting;
  if (maxBatchSize <= 0) return 64;
  return Math.min(512, Math.max(16, 4 * maxBatchSize));
}
