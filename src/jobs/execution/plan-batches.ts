/**
 * Cuts rows into batches: consecutive rows that `compatible` says can share a batch, at
 * most maxBatchSize per batch; every row alone when the model does not batch (0).
 */
export function planBatches<T>(rows: readonly T[], maxBatchSize: number, compatible: (first: T, row: T) => boolean): T[][] {
  const limit = Math.max(1, maxBatchSize);
  const batches: T[][] = [];
  let current: T[] = [];
  for (const row of rows) {
    const first = current[0];
    if (first !== undefined && (current.length >= limit || !compatible(first, row))) {
      batches.push(current);
      current = [];
    }
    current.push(row);
  }
  if (current.length > 0) batches.push(current);
  return batches;
}
