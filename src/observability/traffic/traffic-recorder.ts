import type { RedisClient } from '../../redis/redis-client';
import { pipelinesBySlot } from '../../redis/slot-batches';
import type { InferenceObserver, InferenceOutcome } from '../inference-observer';
import type { Logger } from '../logger';
import { LATENCY_BOUNDS_MS, latencyBucketOf } from './latency-buckets';
import { ALL_SCOPE, TRAFFIC_KEEP_SECONDS, stepOf, tenantScope, trafficField } from './traffic-fields';

/** The field names of one scope, built once (no string building per call). */
interface ScopeFields {
  readonly requests: string;
  readonly errors: string;
  readonly quotaRejections: string;
  readonly latency: readonly string[];
}

function scopeFields(scope: string): ScopeFields {
  return {
    requests: trafficField(scope, 'r'),
    errors: trafficField(scope, 'e'),
    quotaRejections: trafficField(scope, 'q'),
    latency: Array.from({ length: LATENCY_BOUNDS_MS.length + 1 }, (_unused, index) => trafficField(scope, `l${index}`)),
  };
}

/** Tenants whose field names are cached; beyond, names are built per call (still correct). */
const MAX_CACHED_SCOPES = 10_000;

/** Counts held for at most this many steps while Redis is unreachable; older ones are dropped. */
const MAX_PENDING_STEPS = 60;

/**
 * The dashboard's traffic series, written by every front-door process: each inference
 * outcome is counted in memory (no I/O on the hot path) and the counts are added to Redis
 * (HINCRBY on the step's hash, one pipeline) every flushIntervalMs and at stop, so the
 * overview sums every replica. A crash loses at most one interval of counts.
 */
export class TrafficRecorder implements InferenceObserver {
  /** step start (s) -> field -> count */
  private pending = new Map<number, Map<string, number>>();
  private timer: NodeJS.Timeout | null = null;
  private lastWarningMs = 0;
  private readonly everyCall = scopeFields(ALL_SCOPE);
  private readonly tenantFields = new Map<string, ScopeFields>();

  constructor(
    private readonly redis: RedisClient,
    private readonly keyOf: (stepSeconds: number) => string,
    private readonly flushIntervalMs: number,
    private readonly logger: Logger,
  ) {}

  start(): void {
    this.timer = setInterval(() => { void this.flush(); }, this.flushIntervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  observe(outcome: InferenceOutcome): void {
    const step = stepOf(outcome.startedMs);
    let fields = this.pending.get(step);
    if (fields === undefined) {
      fields = new Map();
      this.pending.set(step, fields);
    }
    const bucket = latencyBucketOf(outcome.latencyMs);
    count(fields, this.everyCall, outcome, bucket);
    if (outcome.tenantId !== null) count(fields, this.fieldsOf(outcome.tenantId), outcome, bucket);
  }

  private fieldsOf(tenantId: string): ScopeFields {
    let names = this.tenantFields.get(tenantId);
    if (names === undefined) {
      names = scopeFields(tenantScope(tenantId));
      if (this.tenantFields.size < MAX_CACHED_SCOPES) this.tenantFields.set(tenantId, names);
    }
    return names;
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    // One key per step: under Redis Cluster the steps spread over the nodes, one pipeline each.
    const pipeline = pipelinesBySlot(this.redis);
    for (const [step, fields] of batch) {
      const key = this.keyOf(step);
      for (const [field, amount] of fields) pipeline.on(key).hincrby(key, field, amount);
      pipeline.on(key).expire(key, TRAFFIC_KEEP_SECONDS);
    }
    const replies = await pipeline.exec();
    // Only the counts whose increment failed are kept for the next flush (none is added twice).
    const unwritten = new Map<number, Map<string, number>>();
    let failure: Error | null = null;
    let at = 0;
    for (const [step, fields] of batch) {
      for (const [field, amount] of fields) {
        const error = replies[at++]?.[0] ?? null;
        if (error === null) continue;
        failure ??= error;
        const kept = unwritten.get(step) ?? new Map<string, number>();
        kept.set(field, amount);
        unwritten.set(step, kept);
      }
      at += 1;
    }
    if (failure === null) return;
    this.keep(unwritten);
    const now = Date.now();
    if (now - this.lastWarningMs > 60_000) {
      this.lastWarningMs = now;
      this.logger.warn({ reason: failure.message }, 'traffic series not written yet (Redis unreachable); will retry');
    }
  }

  /** Puts counts that could not be written back, newest steps first, within MAX_PENDING_STEPS. */
  private keep(batch: Map<number, Map<string, number>>): void {
    for (const [step, fields] of batch) {
      const current = this.pending.get(step) ?? new Map<string, number>();
      for (const [field, amount] of fields) current.set(field, (current.get(field) ?? 0) + amount);
      this.pending.set(step, current);
    }
    const steps = [...this.pending.keys()].sort((a, b) => b - a);
    for (const old of steps.slice(MAX_PENDING_STEPS)) this.pending.delete(old);
  }
}

function count(fields: Map<string, number>, names: ScopeFields, outcome: InferenceOutcome, bucket: number): void {
  add(fields, names.requests);
  if (outcome.failed) add(fields, names.errors);
  if (outcome.refusedBy !== null) add(fields, names.quotaRejections);
  add(fields, names.latency[bucket] as string);
}

function add(fields: Map<string, number>, field: string): void {
  fields.set(field, (fields.get(field) ?? 0) + 1);
}
