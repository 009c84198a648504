/**
 * Upper bounds (ms) of the latency buckets the traffic series counts in, roughly
 * logarithmic from 0.25 ms to 30 s; a last, open bucket takes everything slower.
 * Changing them changes what stored counts mean: only ever append.
 */
export const LATENCY_BOUNDS_MS: readonly number[] = [0.25, 0.5, 1, 2, 3, 5, 7.5, 10, 15, 25, 40, 60, 100, 150, 250, 400, 600, 1000, 1500, 2500, 5000, 10_000, 30_000];

/** The bucket index of a latency: the first bound it does not exceed, else the open bucket. */
export function latencyBucketOf(latencyMs: number): number {
  for (let index = 0; index < LATENCY_BOUNDS_MS.length; index += 1) {
    if (latencyMs <= (LATENCY_BOUNDS_MS[index] as number)) return index;
  }
  return LATENCY_BOUNDS_MS.length;
}

/**
 * The latency at quantile q (0..1) of bucket counts, interpolated linearly inside the
 * bucket it falls in (as Prometheus' histogram_quantile does); null when there are no
 * counts. The open bucket answers its lower bound.
 */
export function latencyQuantile(counts: readonly number[], q: number): number | null {
  const total = counts.reduce((sum, count) => sum + count, 0);
  if (total === 0) return null;
  const rank = q * total;
  let below = 0;
  for (let index = 0; index < counts.length; index += 1) {
    const count = counts[index] as number;
    if (count > 0 && below + count >= rank) {
      const lower = index === 0 ? 0 : (LATENCY_BOUNDS_MS[index - 1] as number);
      const upper = LATENCY_BOUNDS_MS[index];
      if (upper === undefined) return lower;
      return lower + (upper - lower) * Math.max(0, rank - below) / count;
    }
    below += count;
  }
  return LATENCY_BOUNDS_MS[LATENCY_BOUNDS_MS.length - 1] as number;
}
