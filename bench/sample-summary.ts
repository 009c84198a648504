export interface SampleSummary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
}

/** Median (the mean of the two middle values for an even count), min and max; throws on no values. */
export function summarize(values: readonly number[]): SampleSummary {
  if (values.length === 0) throw new Error('no values to summarize');
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle] as number : ((sorted[middle - 1] as number) + (sorted[middle] as number)) / 2;
  return { median, min: sorted[0] as number, max: sorted[sorted.length - 1] as number };
}

/** `median (min-max)` with `digits` decimals. */
export function summaryText(summary: SampleSummary, digits = 0): string {
  return `${summary.median.toFixed(digits)} (${summary.min.toFixed(digits)}-${summary.max.toFixed(digits)})`;
}
