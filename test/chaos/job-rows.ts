import { gzipSync } from 'node:zlib';

/** INPUT0 of row `index` of the chaos job: 16 distinct INT32 values derived from the index. */
export function rowInput0(index: number): number[] {
  return Array.from({ length: 16 }, (_, i) => (index * 16 + i) % 2_000_000_000);
}

/** INPUT1 of every row: 0, 1, ..., 15 (so OUTPUT0 = INPUT0 + i and OUTPUT1 = INPUT0 - i). */
export const ROW_INPUT1: readonly number[] = Array.from({ length: 16 }, (_, i) => i);

/** The job's JSONL body for `simple`, gzip-compressed: rows `row-0` .. `row-<rows-1>`. */
export function simpleJobBody(rows: number): Buffer {
  const input1 = JSON.stringify(ROW_INPUT1);
  const lines: string[] = [];
  for (let index = 0; index < rows; index++) {
    lines.push(`{"custom_id":"row-${index}","inputs":{"INPUT0":${JSON.stringify(rowInput0(index))},"INPUT1":${input1}}}`);
  }
  return gzipSync(`${lines.join('\n')}\n`);
}

/** A result line's OUTPUT0 as a flat list of numbers, whether it came as a nested array or a {datatype, shape, data} tensor. */
export function flatOutput(value: unknown): number[] {
  if (typeof value === 'object' && value !== null && !Array.isArray(value) && 'data' in value) return flatOutput((value as { data: unknown }).data);
  if (Array.isArray(value)) return value.flatMap((item) => flatOutput(item));
  return [Number(value)];
}

/** What the results of a chaos job hold, against the rows `row-0` .. `row-<rows-1>` it was made of. */
export interface ResultCheck {
  /** Distinct custom_ids seen. */
  readonly seen: ReadonlySet<string>;
  /** Lines whose custom_id came before. */
  readonly duplicates: number;
  /** Lines whose OUTPUT0 is not INPUT0 + INPUT1 of their row. */
  readonly wrong: number;
  /** custom_ids of the job without a line. */
  readonly missing: readonly string[];
}

/** Reads the JSONL of GET /v1/jobs/{id}/results and checks every line against its row. */
export function checkResultLines(text: string, rows: number): ResultCheck {
  const seen = new Set<string>();
  let duplicates = 0;
  let wrong = 0;
  for (const line of text.split('\n')) {
    if (line === '') continue;
    const parsed = JSON.parse(line) as { custom_id: string; outputs: Record<string, unknown> };
    if (seen.has(parsed.custom_id)) duplicates += 1;
    seen.add(parsed.custom_id);
    const expected = rowInput0(Number(parsed.custom_id.slice('row-'.length))).map((value, i) => value + (ROW_INPUT1[i] as number));
    if (flatOutput(parsed.outputs['OUTPUT0']).join(',') !== expected.join(',')) wrong += 1;
  }
  const missing: string[] = [];
  for (let index = 0; index < rows; index++) if (!seen.has(`row-${index}`)) missing.push(`row-${index}`);
  return { seen, duplicates, wrong, missing };
}
