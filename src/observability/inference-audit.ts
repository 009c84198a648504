import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { projectRoot } from '../protocol/project-paths';
import type { RedisClient } from '../redis/redis-client';
import { TRIAGE_VERSION } from '../version';
import type { InferenceObserver, InferenceOutcome } from './inference-observer';
import type { Logger } from './logger';
import { recordedModelName } from './recorded-model-name';

export interface InferenceAuditOptions {
  /** The stream (RedisKeys.inferenceAudit()). */
  readonly streamKey: string;
  /** Entries older than this are trimmed (XADD MINID ~). */
  readonly retentionMs: number;
  /** And the stream keeps about this many newest entries (XTRIM MAXLEN ~ once per flush). */
  readonly maxEntries: number;
  /** How often buffered entries are written (default 250 ms); at once when `flushAt` are buffered. */
  readonly flushMs?: number;
  readonly flushAt?: number;
  /** Entries kept while Redis cannot be written (default 100,000); beyond, the oldest are dropped. */
  readonly maxBuffered?: number;
  readonly nowMs?: () => number;
}

/** Most entries one script call carries: Redis runs a call without interruption (1,000 entries: a few ms). */
const MAX_BATCH = 1_000;
/** Field values of one entry are joined by this character (never in a value: every value is checked or made by triage). */
const UNIT_SEPARATOR = '\x1f';
/** Dropped-entry warnings: at most one per this long. */
const WARN_EVERY_MS = 60_000;
const VERSION = /^[0-9]{0,19}$/;
const REQUEST_ID = /^[\x21-\x7e]{1,128}$/;

/**
 * The inference audit stream: one entry per inference call with its metadata (tenant, key
 * id, model, version, request id, protocol, status, refusing quota, latencies, instance,
 * bytes) and never a payload byte. observe() only pushes the outcome to an array; a timer
 * writes the buffer with one script call per 1,000 entries (an XADD per entry inside
 * Redis: one command per entry from here cost about 25 us of this process's CPU each). While Redis cannot be written the
 * entries stay buffered (up to `maxBuffered`, then the oldest go, with one warning a minute
 * saying how many). Names a client controls are kept only when they are well-formed: a
 * model name or request id that could carry data is stored as a placeholder.
 */
export class InferenceAudit implements InferenceObserver {
  private buffer: InferenceOutcome[] = [];
  private timer: NodeJS.Timeout | null = null;
  private flushing: Promise<void> | null = null;
  private readonly flushMs: number;
  private readonly flushAt: number;
  private readonly maxBuffered: number;
  private readonly nowMs: () => number;
  /** Entries dropped since the last warning, and why writes failed last. */
  private dropped = 0;
  private lastFailure: string | null = null;
  private lastWarningMs = -Infinity;

  private readonly append: (stream: string, minId: string, maxEntries: number, entries: readonly string[]) => Promise<number>;

  constructor(private readonly redis: RedisClient, private readonly options: InferenceAuditOptions, private readonly logger: Logger) {
    this.append = defineAppendEntries(redis);
    this.flushMs = options.flushMs ?? 250;
    this.flushAt = options.flushAt ?? 1000;
    this.maxBuffered = options.maxBuffered ?? 100_000;
    this.nowMs = options.nowMs ?? Date.now;
  }

  start(): void {
    this.timer ??= setInterval(() => void this.flush(), this.flushMs);
  }

  observe(outcome: InferenceOutcome): void {
    this.buffer.push(outcome);
    if (this.buffer.length >= this.flushAt && this.flushing === null) void this.flush();
    // Trimmed in steps of flushAt so a long outage costs one splice per flushAt calls, not one per call.
    if (this.buffer.length >= this.maxBuffered + this.flushAt) this.dropOldest();
  }

  /** Entries waiting to be written. */
  buffered(): number {
    return this.buffer.length;
  }

  /** Writes what is buffered (one pipeline per MAX_BATCH entries); concurrent calls share one flush. Never throws. */
  flush(): Promise<void> {
    this.flushing ??= this.writeBuffered().finally(() => {
      this.flushing = null;
    });
    return this.flushing;
  }

  /** Stops the timer and writes what is left (one attempt: entries Redis refuses now are lost, with a warning). */
  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
    if (this.buffer.length > 0) {
      this.logger.warn({ lost: this.buffer.length, reason: this.lastFailure }, 'inference audit entries could not be written before stopping');
      this.buffer = [];
    }
  }

  private async writeBuffered(): Promise<void> {
    // Drops not yet reported (a warning was given less than a minute before them) are reported once the minute is over.
    if (this.dropped > 0) this.warnAtMostEveryMinute();
    while (this.buffer.length > 0) {
      // A client that is not connected fails every command at once: keep the entries for the next tick.
      if (this.redis.status !== 'ready') {
        this.failed(`Redis connection is ${this.redis.status}`);
        return;
      }
      const batch = this.buffer.length <= MAX_BATCH ? this.buffer : this.buffer.slice(0, MAX_BATCH);
      this.buffer = batch === this.buffer ? [] : this.buffer.slice(MAX_BATCH);
      const unwritten = await this.write(batch);
      if (unwritten.length > 0) {
        this.buffer = unwritten.concat(this.buffer);
        return;
      }
    }
  }

  /** One script call: an XADD per entry (trimming by age), then one XTRIM by count. Answers the entries not written (all or none). */
  private async write(batch: readonly InferenceOutcome[]): Promise<InferenceOutcome[]> {
    const minId = String(Math.max(0, this.nowMs() - this.options.retentionMs));
    try {
      await this.append(this.options.streamKey, minId, this.options.maxEntries, batch.map(packedEntry));
      return [];
    } catch (error) {
      this.failed((error as Error).message);
      return [...batch];
    }
  }

  private failed(reason: string): void {
    this.lastFailure = reason;
    if (this.buffer.length > this.maxBuffered) this.dropOldest();
    this.warnAtMostEveryMinute();
  }

  private dropOldest(): void {
    const excess = this.buffer.length - this.maxBuffered;
    if (excess <= 0) return;
    this.buffer.splice(0, excess);
    this.dropped += excess;
    this.warnAtMostEveryMinute();
  }

  private warnAtMostEveryMinute(): void {
    const now = this.nowMs();
    if (now - this.lastWarningMs < WARN_EVERY_MS) return;
    this.lastWarningMs = now;
    this.logger.warn({ buffered: this.buffer.length, dropped: this.dropped, reason: this.lastFailure },
      this.dropped > 0 ? 'inference audit: Redis cannot be written; the oldest buffered entries were dropped' : 'inference audit: Redis cannot be written; entries are kept and retried');
    this.dropped = 0;
  }
}

/** The stream's field names, in the order packedEntry joins the values. */
const FIELD_NAMES = ['at', 'tenant_id', 'key_id', 'model', 'version', 'request_id', 'protocol', 'rpc', 'code', 'failed', 'refused_by', 'latency_ms', 'upstream_ms', 'instance', 'bytes_in', 'bytes_out'] as const;
const PACKED_NAMES = FIELD_NAMES.join(UNIT_SEPARATOR);
/** A printable value of ours (tenant and key ids, codes, addresses): anything else is stored as a placeholder. */
const PRINTABLE = /^[\x20-\x7e]{0,256}$/;

function printable(value: string): string {
  return PRINTABLE.test(value) ? value : '(invalid)';
}

/** The values of one outcome (absent ones ''), joined by the unit separator in FIELD_NAMES order. */
function packedEntry(outcome: InferenceOutcome): string {
  return [
    new Date(outcome.startedMs + outcome.latencyMs).toISOString(),
    printable(outcome.tenantId ?? ''),
    printable(outcome.keyId ?? ''),
    recordedModelName(outcome.model),
    VERSION.test(outcome.version) ? outcome.version : '(invalid)',
    REQUEST_ID.test(outcome.requestId) ? outcome.requestId : '(invalid)',
    outcome.protocol,
    outcome.rpc,
    printable(outcome.code),
    outcome.failed ? '1' : '0',
    printable(outcome.refusedBy ?? ''),
    outcome.latencyMs.toFixed(3),
    outcome.upstreamMs === null ? '' : outcome.upstreamMs.toFixed(3),
    printable(outcome.instance ?? ''),
    String(outcome.bytesIn),
    String(outcome.bytesOut),
  ].join(UNIT_SEPARATOR);
}

/** Command names carry triage's version, so two versions sharing one Redis never run each other's scripts. */
const APPEND_COMMAND = `triageAppendInferenceEntries_v${TRIAGE_VERSION.replace(/[^0-9A-Za-z]/g, '_')}`;

type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;

function defineAppendEntries(redis: RedisClient): (stream: string, minId: string, maxEntries: number, entries: readonly string[]) => Promise<number> {
  if (!(APPEND_COMMAND in redis)) {
    redis.defineCommand(APPEND_COMMAND, { numberOfKeys: 1, lua: readFileSync(join(projectRoot(), 'src', 'observability', 'lua', 'append-inference-entries-1.lua'), 'utf8') });
  }
  const call = ((redis as unknown as Record<string, ScriptCall>)[APPEND_COMMAND] as ScriptCall).bind(redis);
  return async (stream, minId, maxEntries, entries) => Number(await call(stream, minId, maxEntries, FIELD_NAMES.length, PACKED_NAMES, ...entries));
}
