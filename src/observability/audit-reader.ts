import type { RedisClient } from '../redis/redis-client';
import { readAdminEntry, readInferenceEntry, type AuditEntry, type AuditKind, type ReadAuditEntry } from './audit-entries';
import { compareStreamIds, StreamCursor } from './stream-cursor';

/** What to read from the audit streams. Every filter is optional (null). */
export interface AuditQuery {
  readonly kinds: readonly AuditKind[];
  /** Only entries of this tenant (an inference's tenant; an admin change's actor or target tenant). */
  readonly tenant: string | null;
  readonly model: string | null;
  /** An admin action (`model.deploy`) or `inference`. */
  readonly action: string | null;
  /** Time range in epoch ms, both inclusive: mapped to stream ids, so it costs no scanning. */
  readonly sinceMs: number | null;
  readonly untilMs: number | null;
  /** Cursor: only entries older than this stream id. */
  readonly before: string | null;
}

export interface AuditPage {
  /** Newest first. */
  readonly entries: AuditEntry[];
  /** Pass as `before` for the next page; null when nothing older matches. */
  readonly nextBefore: string | null;
  /** Set when the scan bound stopped the search before the page was full: every entry newer than this id was examined. */
  readonly scannedTo: string | null;
}

/** An export in progress: the entries, then (once they are read) where a scan bound stopped it. */
export interface AuditExport {
  readonly entries: AsyncIterable<AuditEntry>;
  /** After `entries` ended: the id the scan bound stopped at, or null when every matching entry was read. */
  scannedTo(): string | null;
}

/** Entries of both streams merged newest first; counts what it examined. */
class MergedScan {
  scanned = 0;
  lastId: string | null = null;

  constructor(private readonly sources: readonly { cursor: StreamCursor; read: (id: string, fields: readonly string[]) => ReadAuditEntry }[]) {}

  /** The id of the next entry, or null when both streams are exhausted. */
  async peekId(): Promise<string | null> {
    return (await this.newest())?.entry[0] ?? null;
  }

  async next(): Promise<ReadAuditEntry | null> {
    const newest = await this.newest();
    if (newest === null) return null;
    newest.source.cursor.take();
    this.scanned += 1;
    this.lastId = newest.entry[0];
    return newest.source.read(newest.entry[0], newest.entry[1]);
  }

  private async newest() {
    let best: { source: MergedScan['sources'][number]; entry: readonly [string, string[]] } | null = null;
    for (const source of this.sources) {
      const entry = await source.cursor.peek();
      if (entry !== null && (best === null || compareStreamIds(entry[0], best.entry[0]) > 0)) best = { source, entry };
    }
    return best;
  }
}

/**
 * Reads the audit streams (admin changes and inference metadata) newest first, merged by
 * stream id. The time range and the cursor become XREVRANGE bounds; the other filters are
 * checked entry by entry, reading pages of 1,000, and every read is bounded by how many
 * entries it may examine. Two entries of the two streams may share an id: they are always
 * examined together, so a cursor never splits them.
 */
export class AuditReader {
  constructor(private readonly redis: RedisClient, private readonly streams: { readonly admin: string; readonly inference: string }) {}

  /** At most `limit` matching entries, examining at most `maxScanned` (plus a same-id twin). */
  async page(query: AuditQuery, limit: number, maxScanned: number): Promise<AuditPage> {
    const scan = this.open(query);
    const entries: AuditEntry[] = [];
    let bounded = false;
    while (entries.length < limit) {
      if (scan.scanned >= maxScanned) {
        bounded = true;
        break;
      }
      const read = await scan.next();
      if (read === null) break;
      if (matches(read, query)) entries.push(read.entry);
    }
    await examineTwin(scan, query, entries);
    const more = scan.lastId !== null && (await scan.peekId()) !== null;
    if (!more) return { entries, nextBefore: null, scannedTo: null };
    return { entries, nextBefore: scan.lastId, scannedTo: bounded && entries.length < limit ? scan.lastId : null };
  }

  /** Every matching entry (at most `limit`), examining at most `maxScanned`, read a page at a time as the consumer pulls. */
  export(query: AuditQuery, limit: number | null, maxScanned: number): AuditExport {
    const scan = this.open(query);
    let scannedTo: string | null = null;
    const entries = async function* entries(): AsyncGenerator<AuditEntry> {
      let sent = 0;
      while (limit === null || sent < limit) {
        if (scan.scanned >= maxScanned) {
          const twins: AuditEntry[] = [];
          await examineTwin(scan, query, twins);
          yield* twins;
          if ((await scan.peekId()) !== null) scannedTo = scan.lastId;
          return;
        }
        const read = await scan.next();
        if (read === null) return;
        if (!matches(read, query)) continue;
        sent += 1;
        yield read.entry;
      }
    };
    return { entries: entries(), scannedTo: () => scannedTo };
  }

  private open(query: AuditQuery): MergedScan {
    const end = rangeEnd(query);
    const start = query.sinceMs === null ? '-' : String(query.sinceMs);
    const sources = [];
    if (query.kinds.includes('admin') && query.action !== 'inference') {
      sources.push({ cursor: new StreamCursor(this.redis, this.streams.admin, end, start), read: readAdminEntry });
    }
    if (query.kinds.includes('inference') && (query.action === null || query.action === 'inference')) {
      sources.push({ cursor: new StreamCursor(this.redis, this.streams.inference, end, start), read: readInferenceEntry });
    }
    return new MergedScan(sources);
  }
}

function matches(read: ReadAuditEntry, query: AuditQuery): boolean {
  return (query.tenant === null || read.tenants.includes(query.tenant))
    && (query.model === null || read.model === query.model)
    && (query.action === null || read.action === query.action);
}

/** After a stop: the other stream's entry with the very id examined last, if any, so no cursor splits them. */
async function examineTwin(scan: MergedScan, query: AuditQuery, entries: AuditEntry[]): Promise<void> {
  while (scan.lastId !== null && (await scan.peekId()) === scan.lastId) {
    const read = await scan.next();
    if (read !== null && matches(read, query)) entries.push(read.entry);
  }
}

/** The largest sequence part of a stream id (2^64-1). */
const MAX_SEQUENCE = '18446744073709551615';

/** The newest id to read: below the cursor, at or before `untilMs`, whichever is lower. */
function rangeEnd(query: AuditQuery): string {
  if (query.before !== null && (query.untilMs === null || compareStreamIds(query.before, `${query.untilMs}-${MAX_SEQUENCE}`) <= 0)) return `(${query.before}`;
  return query.untilMs === null ? '+' : String(query.untilMs);
}
