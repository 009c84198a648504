import type { QuotaLimits } from './quota-config';

/** One dimension the admission script checks (see lua/admit.lua for the meaning of a and b), with a name for messages. */
export interface QuotaCheck {
  readonly key: string;
  readonly kind: 'g' | 'c' | 'b';
  /** g: emission interval ms; c: max concurrent; b: limit. */
  readonly a: number;
  /** g: burst tolerance ms; otherwise 0. */
  readonly b: number;
  /** b: seconds the counter lives; otherwise 0. */
  readonly ttlSeconds: number;
  /** What one request consumes: a number, or 'inferences' (its batch dimension). */
  readonly quantity: number | 'inferences';
  /** Names the limit in refusals, e.g. "requests_per_second of tenant t_x". */
  readonly name: string;
  /** The quota field alone, e.g. "requests_per_second". */
  readonly field: string;
  /** The configured value, for messages. */
  readonly value: number;
  /** Which calendar period a budget renews with. */
  readonly period: 'day' | 'month' | null;
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
 * The checks for one set of limits (the tenant's, or the tenant's for one model): GCRA
 * rates for requests and inferences, a concurrency lease, and calendar budgets whose
 * counters expire after their period. They depend only on the limits and the day, so
 * one list serves every request of a tenant and model that day.
 */
export function checksFor(limits: QuotaLimits, scope: string, subject: string, nowMs: number): QuotaCheck[] {
  const checks: QuotaCheck[] = [];
  const { day, month } = calendarPeriods(nowMs);
  const rate = (field: 'requests_per_second' | 'inferences_per_second', burstField: 'burst' | 'inference_burst', suffix: string, quantity: number | 'inferences'): void => {
    const perSecond = limits[field];
    if (perSecond === null || perSecond === undefined) return;
    const interval = 1000 / perSecond;
    const burst = limits[burstField] ?? Math.max(1, Math.ceil(perSecond));
    checks.push({ key: `${scope}:${suffix}`, kind: 'g', a: interval, b: burst * interval, ttlSeconds: 0, quantity, name: `${field} of ${subject}`, field, value: perSecond, period: null });
  };
  rate('requests_per_second', 'burst', 'rps', 1);
  rate('inferences_per_second', 'inference_burst', 'ips', 'inferences');
  if (limits.max_concurrent !== null && limits.max_concurrent !== undefined) {
    checks.push({ key: `${scope}:conc`, kind: 'c', a: limits.max_concurrent, b: 0, ttlSeconds: 0, quantity: 1, name: `max_concurrent of ${subject}`, field: 'max_concurrent', value: limits.max_concurrent, period: null });
  }
  const budget = (field: 'daily_requests' | 'monthly_requests' | 'daily_inferences' | 'monthly_inferences', suffix: string, quantity: number | 'inferences', period: 'day' | 'month'): void => {
    const limit = limits[field];
    if (limit === null || limit === undefined) return;
    const ttlSeconds = period === 'day' ? 2 * DAY_SECONDS : 32 * DAY_SECONDS;
    checks.push({ key: `${scope}:${suffix}`, kind: 'b', a: limit, b: 0, ttlSeconds, quantity, name: `${field} of ${subject}`, field, value: limit, period });
  };
  budget('daily_requests', `req:d:${day}`, 1, 'day');
  budget('monthly_requests', `req:m:${month}`, 1, 'month');
  budget('daily_inferences', `inf:d:${day}`, 'inferences', 'day');
  budget('monthly_inferences', `inf:m:${month}`, 'inferences', 'month');
  return checks;
}

/** The opening of admit.lua's and credit.lua's ARGV (read by lua/read-checks.lua): the lease time to live, N, then 5 values per check. */
export function checkArgs(leaseTtlMs: number, checks: readonly QuotaCheck[]): (string | number)[] {
  const args: (string | number)[] = [leaseTtlMs, checks.length];
  for (const check of checks) args.push(check.kind, check.a, check.b, check.ttlSeconds, check.quantity === 'inferences' ? -1 : check.quantity);
  return args;
}

/** The keys of the concurrency checks (lease sorted sets), in check order. */
export function leaseKeysOf(checks: readonly QuotaCheck[]): string[] {
  return checks.filter((check) => check.kind === 'c').map((check) => check.key);
}
