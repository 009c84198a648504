import { TriageError } from '../../errors/triage-error';
import type { JobRow } from '../job-record';

const NEWLINE = 0x0a;

/**
 * The rows of a legacy chunk's input (JSONL of JobRow, one per line; chunks are packed
 * since, packed-rows.ts). Each line is decoded on
 * its own: one string for the whole chunk (hundreds of KB) would land in V8's large
 * object space, which costs far more per byte than many small strings. Throws INTERNAL
 * when a line is not a row: inputs are written by triage itself, so that is corruption,
 * not a user error.
 */
export function parseJobRows(jsonl: Buffer): JobRow[] {
  const rows: JobRow[] = [];
  let start = 0;
  while (start < jsonl.length) {
    const newline = jsonl.indexOf(NEWLINE, start);
    const end = newline < 0 ? jsonl.length : newline;
    const line = jsonl.toString('utf8', start, end);
    start = end + 1;
    if (line.trim() === '') continue;
    let row: unknown;
    try {
      row = JSON.parse(line);
    } catch (error) {
      throw new TriageError('INTERNAL', `a stored input line is not JSON (row ${rows.length} of its chunk)`, { cause: error });
    }
    if (typeof row !== 'object' || row === null || typeof (row as JobRow).custom_id !== 'string' || typeof (row as JobRow).inputs !== 'object' || (row as JobRow).inputs === null) {
      throw new TriageError('INTERNAL', `a stored input line is not a row with custom_id and inputs (row ${rows.length} of its chunk)`);
    }
    rows.push(row as JobRow);
  }
  return rows;
}
