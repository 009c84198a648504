import type { RedisClient } from '../../redis/redis-client';
import { pipelinesBySlot } from '../../redis/slot-batches';
import { LATENCY_BOUNDS_MS, latencyQuantile } from './latency-buckets';
import { TRAFFIC_STEP_SECONDS, stepOf, trafficField } from './traffic-fields';

/** One step of the overview's series. */
export interface TrafficPoint {
  readonly at: string;
  readonly requests: number;
  readonly errors: number;
  readonly quota_rejections: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
}

export interface TrafficTotals {
  /** Over the last 60 s (the current step counted for the part of it that has passed). */
  readonly requests_per_second: number;
  /** Failed / all over the last 5 minutes; 0 when idle. */
  readonly error_rate: number;
  readonly p50_ms: number | null;
  readonly p99_ms: number | null;
  /** Over the whole window. */
  readonly requests: number;
  readonly quota_rejections: number;
}

export interface TrafficOverview {
  readonly step_seconds: number;
  readonly window_seconds: number;
  /** Oldest first, one point per step, zeros when idle. */
  readonly series: TrafficPoint[];
  readonly totals: TrafficTotals;
}

interface StepCounts {
  readonly requests: number;
  readonly errors: number;
  readonly quotaRejections: number;
  readonly latency: number[];
}

const FIGURES = ['r', 'e', 'q', ...LATENCY_BOUNDS_MS.map((_bound, index) => `l${index}`), `l${LATENCY_BOUNDS_MS.length}`];

/**
 * Reads the traffic series of one scope (every call, or one tenant's) over the last
 * windowSeconds: one pipeline of HMGET, one per step (one pipeline per node under Redis Cluster).
 */
export async function readTrafficOverview(redis: RedisClient, keyOf: (stepSeconds: number) => string, scope: string, windowSeconds: number, nowMs: number): Promise<TrafficOverview> {
  const current = stepOf(nowMs);
  const steps: number[] = [];
  for (let step = current - windowSeconds + TRAFFIC_STEP_SECONDS; step <= current; step += TRAFFIC_STEP_SECONDS) steps.push(step);
  const fields = FIGURES.map((figure) => trafficField(scope, figure));
  const pipeline = pipelinesBySlot(redis);
  for (const step of steps) pipeline.on(keyOf(step)).hmget(keyOf(step), ...fields);
  const replies = await pipeline.exec();
  const counts: StepCounts[] = replies.map(([error, values]) => {
    if (error !== null) throw error;
    const numbers = (values as (string | null)[]).map((value) => Number(value ?? 0));
    return { requests: numbers[0] ?? 0, errors: numbers[1] ?? 0, quotaRejections: numbers[2] ?? 0, latency: numbers.slice(3) };
  });
  const series = counts.map((step, index): TrafficPoint => ({
    at: new Date((steps[index] as number) * 1000).toISOString(),
    requests: step.requests,
    errors: step.errors,
    quota_rejections: step.quotaRejections,
    p50_ms: round(latencyQuantile(step.latency, 0.5)),
    p99_ms: round(latencyQuantile(step.latency, 0.99)),
  }));
  return { step_seconds: TRAFFIC_STEP_SECONDS, window_seconds: windowSeconds, series, totals: totalsOf(counts, nowMs, current) };
}

function totalsOf(counts: readonly StepCounts[], nowMs: number, currentStep: number): TrafficTotals {
  const lastSteps = (seconds: number): StepCounts[] => counts.slice(Math.max(0, counts.length - seconds / TRAFFIC_STEP_SECONDS));
  const sum = (steps: readonly StepCounts[], pick: (step: StepCounts) => number): number => steps.reduce((total, step) => total + pick(step), 0);
  const minute = lastSteps(60);
  // The last minute's steps cover 50 s of whole steps plus the part of the current one that has passed.
  const minuteSeconds = Math.max(1, (minute.length - 1) * TRAFFIC_STEP_SECONDS + (nowMs / 1000 - currentStep));
  const fiveMinutes = lastSteps(300);
  const requestsInFive = sum(fiveMinutes, (step) => step.requests);
  const latency = fiveMinutes.reduce<number[]>((merged, step) => merged.map((count, index) => count + (step.latency[index] ?? 0)), new Array<number>(LATENCY_BOUNDS_MS.length + 1).fill(0));
  return {
    requests_per_second: Math.round(sum(minute, (step) => step.requests) / minuteSeconds * 100) / 100,
    error_rate: requestsInFive === 0 ? 0 : Math.round(sum(fiveMinutes, (step) => step.errors) / requestsInFive * 10_000) / 10_000,
    p50_ms: round(latencyQuantile(latency, 0.5)),
    p99_ms: round(latencyQuantile(latency, 0.99)),
    requests: sum(counts, (step) => step.requests),
    quota_rejections: sum(counts, (step) => step.quotaRejections),
  };
}

function round(value: number | null): number | null {
  return value === null ? null : Math.round(value * 1000) / 1000;
}
