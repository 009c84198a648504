import type { Logger } from '../observability/logger';
import { recordedModelName } from '../observability/recorded-model-name';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { pipelinesBySlot } from '../redis/slot-batches';
import { calendarPeriods } from './quota-checks';

export const USAGE_METRICS = ['requests', 'inferences', 'bytes_in', 'bytes_out', 'errors', 'latency_ms'] as const;
export type UsageMetric = (typeof USAGE_METRICS)[number];

export interface UsageSample {
  readonly inferences: number;
  readonly bytesIn: number;
  readonly bytesOut: number;
  readonly error: boolean;
  readonly latencyMs: number;
}

export interface UsageRow {
  readonly tenant_id: string;
  readonly model: string;
  readonly day: string;
  readonly requests: number;
  readonly inferences: number;
  readonly bytes_in: number;
  readonly bytes_out: number;
  readonly errors: number;
  readonly latency_ms: number;
}

const RETENTION_SECONDS = 400 * 86_400;
const FIELD_SEPARATOR = '|';

/**
 * Usage per tenant, model and UTC day, for billing: requests, inferences, bytes in and
 * out, errors and summed latency. Counted in memory and added to Redis (HINCRBY on one
 * hash per tenant and day) every flushIntervalMs and at stop, so metering costs the hot
 * path no round trip. A crash loses at most one interval of counts.
 */
export class UsageMeter {
  private pending = new Map<string, Map<string, number>>();
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly flushIntervalMs: number,
    private readonly logger: Logger,
    private readonly nowMs: () => number = Date.now,
  ) {}

  start(): void {
    this.timer = setInterval(() => { void this.flush(); }, this.flushIntervalMs);
  }

  async stop(): Promise<void> {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    await this.flush();
  }

  record(tenantId: string, requestedModel: string, sample: UsageSample): void {
    // The name is the client's: one that is not a model name is counted under a placeholder, never stored as sent.
    const model = recordedModelName(requestedModel);
    const hashKey = this.keys.usage(tenantId, calendarPeriods(this.nowMs()).day);
    let fields = this.pending.get(hashKey);
    if (fields === undefined) {
      fields = new Map();
      this.pending.set(hashKey, fields);
    }
    const add = (metric: UsageMetric, amount: number): void => {
      if (amount === 0) return;
      const field = `${model}${FIELD_SEPARATOR}${metric}`;
      fields.set(field, (fields.get(field) ?? 0) + amount);
    };
    add('requests', 1);
    add('inferences', sample.inferences);
    add('bytes_in', sample.bytesIn);
    add('bytes_out', sample.bytesOut);
    add('errors', sample.error ? 1 : 0);
    add('latency_ms', Math.round(sample.latencyMs));
  }

  async flush(): Promise<void> {
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    const pipeline = pipelinesBySlot(this.redis);
    for (const [hashKey, fields] of batch) {
      for (const [field, amount] of fields) pipeline.on(hashKey).hincrby(hashKey, field, amount);
      pipeline.on(hashKey).expire(hashKey, RETENTION_SECONDS);
    }
    const replies = await pipeline.exec();
    // Counts whose increment failed are kept for the next flush rather than lost (one hash's
    // commands travel in one pipeline, which fails as a whole when its connection does).
    let at = 0;
    let failure: Error | null = null;
    for (const [hashKey, fields] of batch) {
      for (const [field, amount] of fields) {
        const error = replies[at++]?.[0] ?? null;
        if (error === null) continue;
        failure ??= error;
        const current = this.pending.get(hashKey) ?? new Map<string, number>();
        current.set(field, (current.get(field) ?? 0) + amount);
        this.pending.set(hashKey, current);
      }
      at += 1;
    }
    if (failure !== null) this.logger.warn({ reason: failure.message }, 'usage not written yet (Redis unreachable); will retry');
  }
}

/** Usage rows of the tenants over the days from..to (inclusive, YYYY-MM-DD), sorted. */
export async function readUsage(redis: RedisClient, keys: RedisKeys, tenantIds: readonly string[], from: string, to: string): Promise<UsageRow[]> {
  const days = daysBetween(from, to);
  const pipeline = pipelinesBySlot(redis);
  const order: [string, string][] = [];
  for (const tenantId of tenantIds) {
    for (const day of days) {
      pipeline.on(keys.usage(tenantId, day)).hgetall(keys.usage(tenantId, day));
      order.push([tenantId, day]);
    }
  }
  const results = await pipeline.exec();
  const rows: UsageRow[] = [];
  results.forEach(([error, value], index) => {
    if (error !== null) throw error;
    const [tenantId, day] = order[index] as [string, string];
    const byModel = new Map<string, Record<UsageMetric, number>>();
    for (const [field, amount] of Object.entries(value as Record<string, string>)) {
      const separator = field.lastIndexOf(FIELD_SEPARATOR);
      const model = field.slice(0, separator);
      const metric = field.slice(separator + 1) as UsageMetric;
      if (!USAGE_METRICS.includes(metric)) continue;
      const counts = byModel.get(model) ?? { requests: 0, inferences: 0, bytes_in: 0, bytes_out: 0, errors: 0, latency_ms: 0 };
      counts[metric] = Number(amount);
      byModel.set(model, counts);
    }
    for (const [model, counts] of byModel) rows.push({ tenant_id: tenantId, model, day, ...counts });
  });
  return rows.sort((a, b) => a.tenant_id.localeCompare(b.tenant_id) || a.day.localeCompare(b.day) || a.model.localeCompare(b.model));
}

/** Every UTC day from..to inclusive; at most 400. */
export function daysBetween(from: string, to: string): string[] {
  const days: string[] = [];
  for (let time = Date.parse(`${from}T00:00:00Z`); time <= Date.parse(`${to}T00:00:00Z`) && days.length < 400; time += 86_400_000) {
    days.push(new Date(time).toISOString().slice(0, 10));
  }
  return days;
}
