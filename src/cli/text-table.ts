/** A cell as a table shows it: null as "-", lists joined by commas, objects as k=v pairs. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined || value === '') return '-';
  if (Array.isArray(value)) return value.length === 0 ? '-' : value.map(cellText).join(',');
  if (typeof value === 'object') {
    const entries = Object.entries(value);
    return entries.length === 0 ? '-' : entries.map(([key, item]) => `${key}=${cellText(item)}`).join(',');
  }
  return String(value);
}

/** Rows under a header, columns padded to their widest cell, numbers right-aligned. */
export function formatTable(columns: readonly string[], records: readonly object[]): string {
  const rows = records as readonly Readonly<Record<string, unknown>>[];
  const cells = rows.map((row) => columns.map((column) => cellText(row[column])));
  const numeric = columns.map((column) => rows.length > 0 && rows.every((row) => typeof row[column] === 'number'));
  const widths = columns.map((column, index) => Math.max(column.length, ...cells.map((line) => (line[index] ?? '').length)));
  const line = (values: readonly string[]): string => values
    .map((value, index) => (numeric[index] === true ? value.padStart(widths[index] ?? 0) : value.padEnd(widths[index] ?? 0)))
    .join('  ')
    .trimEnd();
  return [line(columns.map((column) => column.toUpperCase())), ...cells.map(line)].join('\n');
}

/** One record as `field  value` lines; nested objects flattened to dotted names. */
export function formatRecord(record: object): string {
  const pairs: [string, string][] = [];
  const walk = (value: Readonly<Record<string, unknown>>, prefix: string): void => {
    for (const [key, item] of Object.entries(value)) {
      if (item !== null && typeof item === 'object' && !Array.isArray(item) && Object.keys(item).length > 0 && prefix === '' && key === 'models') {
        for (const [model, limits] of Object.entries(item)) walk(limits as Record<string, unknown>, `models.${model}.`);
      } else {
        pairs.push([`${prefix}${key}`, cellText(item)]);
      }
    }
  };
  walk(record as Readonly<Record<string, unknown>>, '');
  const width = Math.max(0, ...pairs.map(([key]) => key.length));
  return pairs.map(([key, value]) => `${key.padEnd(width)}  ${value}`).join('\n');
}
