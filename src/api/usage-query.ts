import { TriageError } from '../errors/triage-error';

export interface UsageQuery {
  /** First day, YYYY-MM-DD (UTC), inclusive. */
  readonly from: string;
  /** Last day, inclusive. */
  readonly to: string;
  readonly tenant: string | null;
  readonly model: string | null;
  /** null: decided by the Accept header. */
  readonly format: 'json' | 'csv' | null;
}

/** Usage is kept 400 days; a query spans at most as many. */
export const MAX_USAGE_DAYS = 400;

const PARAMETERS = ['from', 'to', 'tenant', 'model', 'format'] as const;
const DAY = /^[0-9]{4}-[0-9]{2}-[0-9]{2}$/;
const MAX_NAME_LENGTH = 128;

/**
 * The query of GET /v1/usage. Defaults: `to` today (UTC), `from` the first day of `to`'s
 * month. Unknown or repeated parameters, impossible days, a reversed or too long range are
 * INVALID_ARGUMENT naming the parameter.
 */
export function parseUsageQuery(search: URLSearchParams, nowMs: number): UsageQuery {
  const seen = new Map<string, string>();
  for (const [name, value] of search) {
    if (!(PARAMETERS as readonly string[]).includes(name)) invalid(`query parameter '${name}' is not known here (known: ${PARAMETERS.join(', ')})`);
    if (seen.has(name)) invalid(`query parameter '${name}' is given more than once; give it once`);
    seen.set(name, value);
  }
  const to = day('to', seen.get('to')) ?? new Date(nowMs).toISOString().slice(0, 10);
  const from = day('from', seen.get('from')) ?? `${to.slice(0, 7)}-01`;
  if (from > to) invalid(`from (${from}) must not be after to (${to})`);
  const days = (Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / 86_400_000 + 1;
  if (days > MAX_USAGE_DAYS) invalid(`from..to spans ${days} days; at most ${MAX_USAGE_DAYS} at a time`);
  const format = seen.get('format');
  if (format !== undefined && format !== 'json' && format !== 'csv') invalid(`format must be "json" or "csv", got ${JSON.stringify(format)}`);
  return { from, to, tenant: name('tenant', seen.get('tenant')), model: name('model', seen.get('model')), format: format ?? null };
}

function day(parameter: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  const time = DAY.test(value) ? Date.parse(`${value}T00:00:00Z`) : NaN;
  if (Number.isNaN(time) || new Date(time).toISOString().slice(0, 10) !== value) {
    invalid(`${parameter} must be a day as YYYY-MM-DD, got ${JSON.stringify(value.slice(0, 40))}`);
  }
  return value;
}

function name(parameter: string, value: string | undefined): string | null {
  if (value === undefined) return null;
  if (value === '' || value.length > MAX_NAME_LENGTH) invalid(`${parameter} must be 1 to ${MAX_NAME_LENGTH} characters`);
  return value;
}

function invalid(message: string): never {
  throw new TriageError('INVALID_ARGUMENT', message);
}
