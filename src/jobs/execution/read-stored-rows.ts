import { isPackedChunk, unpackChunk } from '../packed-rows';
import { parseJobRows } from './parse-job-rows';
import { prepareRow, type PreparedRow } from './prepared-row';

/** A chunk's rows ready for batching, and the rows that cannot run with why (each fails alone). */
export interface StoredRows {
  readonly rows: PreparedRow[];
  readonly refused: { readonly customId: string; readonly error: unknown }[];
}

/**
 * The rows of a stored chunk, in either format: packed (read without copying their data),
 * or JSONL of JobRow as chunks were stored before the packed format (a job queued across
 * an upgrade), each line parsed and checked by prepareRow. A row without inputs is refused
 * in both. Throws INTERNAL when the chunk itself is corrupt.
 */
export function readStoredRows(input: Buffer): StoredRows {
  const rows: PreparedRow[] = [];
  const refused: StoredRows['refused'] = [];
  if (isPackedChunk(input)) {
    for (const row of unpackChunk(input)) {
      if (row.inputs.length === 0) refused.push({ customId: row.customId, error: new RangeError('the row has no inputs') });
      else rows.push(row);
    }
    return { rows, refused };
  }
  for (const row of parseJobRows(input)) {
    try {
      rows.push(prepareRow(row));
    } catch (error) {
      refused.push({ customId: row.custom_id, error });
    }
  }
  return { rows, refused };
}
