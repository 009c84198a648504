import type { UsageRow } from '../tenancy/usage-meter';

/** The columns of the billing export, in order: the fields of a usage row. */
export const USAGE_CSV_COLUMNS = ['tenant_id', 'model', 'day', 'requests', 'inferences', 'bytes_in', 'bytes_out', 'errors', 'latency_ms'] as const;

/**
 * Usage rows as RFC 4180 CSV: a header row, then one row per tenant, model and day, CRLF
 * line ends. Text cells are quoted when they hold a comma, quote or line break; a text
 * cell opening with = + - @ (which spreadsheets run as a formula) is prefixed with '.
 */
export function usageCsv(rows: readonly UsageRow[]): string {
  const lines = [USAGE_CSV_COLUMNS.join(',')];
  for (const row of rows) lines.push(USAGE_CSV_COLUMNS.map((column) => cell(row[column])).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function cell(value: string | number): string {
  if (typeof value === 'number') return String(value);
  const text = /^[=+\-@\t\r]/.test(value) ? `'${value}` : value;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}
