import type { RedisKeys } from '../redis/redis-keys';
import type { QuotaLimits } from './quota-config';

/** One dimension the admission script checks, with a name for messages. */
export interface QuotaCheck {
  readonly key: string;
  readonly kind: 'g' | 'c' | 'b';
  readonly args: readonly [number, number, number];
  /** Names the limit in refusals, e.g. "requests_per_second of tenant t_x". */
  readonly name: string;
  /** The configured value, for messages. */
  readonly value: number;
}

const DAY_SECONDS = 86_400;

let periodsSecond = -1;
let periods = { day: '', month: '' };

/** UTC calendar periods: 2026-11-29 and 2026-11 (computed once per second). */
export function calendarPeriods(nowMs: number): { day: string; month: string } {
  const second = Math.floor(nowMs / 1000);
  if (second !== periodsSecond) {
    const iso = new Date(nowMs).toISOString();
    periods = { day: iso.slice(0, 10), month: iso.slice(0, 7) };
    periodsSecond = second;
  }
  return periods;
}

/**
 * The checks for one request against one set of limits (the tenant's, or the tenant's
 * for one model): GCRA rates for requests and inferences, a concurrency lease, and
 * calendar budgets whose counters expire after their period.
 */
export function checksFor(limits: QuotaLimits, scope: string, subject: string, inferences: number, nowMs: number): QuotaCheck[] {
  const checks: QuotaCheck[] = [];
  const { day, month } = calendarPeriods(nowMs);
  const rate = (field: 'requests_per_second' | 'inferences_per_second', burstField: 'burst' | 'inference_burst', suffix: string, quantity: number): void => {
    const perSecond = limits[field];
    if (perSecond === null || perSecond === undefined) return;
    const interval = 1000 / perSecond;
    const burst = limits[burstField] ?? Math.max(1, Math.ceil(perSecond));
    checks.push({ key: `${scope}:${suffix}`, kind: 'g', args: [interval, burst * interval, quantity], name: `${field} of ${subject}`, value: perSecond });
  };
  rate('requests_per_second', 'burst', 'rps', 1);
  rate('inferences_per_second', 'inference_burst', 'ips', inferences);
  if (limits.max_concurrent !== null && limits.max_concurrent !== undefined) {
    checks.push({ key: `${scope}:conc`, kind: 'c', args: [limits.max_concurrent, 0, 0], name: `max_concurrent of ${subject}`, value: limits.max_concurrent });
  }
  const budget = (field: 'daily_requests' | 'monthly_requests' | 'daily_inferences' | 'monthly_inferences', suffix: string, quantity: number, ttlSeconds: number): void => {
    const limit = limits[field];
    if (limit === null || limit === undefined) return;
    checks.push({ key: `${scope}:${suffix}`, kind: 'b', args: [limit, quantity, ttlSeconds], name: `${field} of ${subject}`, value: limit });
  };
  budget('daily_requests', `req:d:${day}`, 1, 2 * DAY_SECONDS);
  budget('monthly_requests', `req:m:${month}`, 1, 32 * DAY_SECONDS);
  budget('daily_inferences', `inf:d:${day}`, inferences, 2 * DAY_SECONDS);
  budget('monthly_inferences', `inf:m:${month}`, inferences, 32 * DAY_SECONDS);
  return checks;
}

export function admissionScope(keys: RedisKeys, tenantId: string, model: string | null): string {
  return keys.admission(tenantId, model);
}
