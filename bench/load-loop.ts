import { hrtime } from 'node:process';

export interface LoadResult {
  readonly requests: number;
  readonly errors: number;
  readonly seconds: number;
  readonly latenciesMs: number[];
}

/**
 * Keeps `concurrency` calls in flight for `seconds` (after a warm-up that is not
 * measured) and records each call's latency.
 */
export async function runClosedLoop(call: () => Promise<unknown>, concurrency: number, seconds: number, warmupSeconds = 3): Promise<LoadResult> {
  const warmupEnd = Date.now() + warmupSeconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < warmupEnd) await call().catch(() => undefined);
  }));
  const latenciesMs: number[] = [];
  let errors = 0;
  const start = hrtime.bigint();
  const end = Date.now() + seconds * 1000;
  await Promise.all(Array.from({ length: concurrency }, async () => {
    while (Date.now() < end) {
      const begin = hrtime.bigint();
      try {
        await call();
        latenciesMs.push(Number(hrtime.bigint() - begin) / 1e6);
      } catch {
        errors += 1;
      }
    }
  }));
  return { requests: latenciesMs.length, errors, seconds: Number(hrtime.bigint() - start) / 1e9, latenciesMs };
}

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] as number;
}
