import type { RedisClient } from '../redis/redis-client';

/** One stream entry as XREVRANGE answers it. */
export type StreamEntry = readonly [id: string, fields: string[]];

/** Orders stream ids (`<ms>-<seq>`, either part up to 2^64-1): negative when a is older than b. */
export function compareStreamIds(a: string, b: string): number {
  const [aMs = '', aSeq = '0'] = a.split('-');
  const [bMs = '', bSeq = '0'] = b.split('-');
  return compareDigits(aMs, bMs) || compareDigits(aSeq, bSeq);
}

/** Compares two unsigned decimal numbers written without leading zeros (stream ids never carry them). */
function compareDigits(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Reads one stream newest first, `pageSize` entries per XREVRANGE, from `end` down to
 * `start` (XREVRANGE's arguments: `+`, an id, or `(id` for exclusive; `-` or an id).
 * Holds one page in memory; the next page starts just below the last id read.
 */
export class StreamCursor {
  private page: StreamEntry[] = [];
  private index = 0;
  private done: boolean;

  constructor(
    private readonly redis: RedisClient,
    private readonly key: string,
    private end: string,
    private readonly start: string,
    private readonly pageSize = 1000,
  ) {
    // Nothing is older than 0-0: an exclusive end there is an empty range (Redis refuses it).
    this.done = end === '(0-0';
  }

  /** The newest entry not yet taken, or null when the range is exhausted. */
  async peek(): Promise<StreamEntry | null> {
    while (this.index >= this.page.length && !this.done) {
      this.page = await this.redis.xrevrange(this.key, this.end, this.start, 'COUNT', this.pageSize);
      this.index = 0;
      const last = this.page[this.page.length - 1];
      if (last === undefined || this.page.length < this.pageSize || last[0] === '0-0') this.done = true;
      else this.end = `(${last[0]}`;
    }
    return this.page[this.index] ?? null;
  }

  /** Takes the entry peek() answered (call peek first). */
  take(): void {
    this.index += 1;
  }
}
