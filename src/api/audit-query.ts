import { TriageError } from '../errors/triage-error';
import { AUDIT_KINDS, type AuditKind } from '../observability/audit-entries';
import type { AuditQuery } from '../observability/audit-reader';

/** GET /v1/audit as asked: what to read, how many, in which form. */
export interface AuditRequest {
  readonly query: AuditQuery;
  /** null: the default (100 entries for JSON; every matching entry for JSONL). */
  readonly limit: number | null;
  readonly format: 'json' | 'jsonl';
}

export const AUDIT_DEFAULT_LIMIT = 100;
export const AUDIT_MAX_LIMIT = 1000;

const PARAMETERS = ['kind', 'tenant', 'model', 'action', 'since', 'until', 'limit', 'before', 'format'] as const;
const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
const ACTION = /^[a-z]+(\.[a-z]+){0,3}$/;
const STREAM_ID = /^(0|[1-9][0-9]{0,19})-(0|[1-9][0-9]{0,19})$/;
const EPOCH_MS = /^[0-9]{1,15}$/;
const ISO_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}(T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]{1,9})?)?(Z|[+-][0-9]{2}:?[0-9]{2})?)?$/;

/**
 * The query of GET /v1/audit. Unknown or repeated parameters and values breaking their
 * rule are INVALID_ARGUMENT naming the parameter and the rule.
 */
export function parseAuditQuery(search: URLSearchParams): AuditRequest {
  const seen = new Map<string, string>();
  for (const [name, value] of search) {
    if (!(PARAMETERS as readonly string[]).includes(name)) invalid(`query parameter '${name.slice(0, 40)}' is not known here (known: ${PARAMETERS.join(', ')})`);
    if (seen.has(name)) invalid(`query parameter '${name}' is given more than once; give it once`);
    if (value === '') invalid(`query parameter '${name}' must not be empty`);
    seen.set(name, value);
  }
  const kind = seen.get('kind');
  if (kind !== undefined && !(AUDIT_KINDS as readonly string[]).includes(kind)) invalid(`kind must be "admin" or "inference" (absent: both), got ${quoted(kind)}`);
  const action = seen.get('action') ?? null;
  if (action !== null && !ACTION.test(action)) invalid(`action must be an admin action such as "model.deploy" or "tenant.create", or "inference", got ${quoted(action)}`);
  if (action === 'inference' && kind === 'admin') invalid('action "inference" names inference entries: it cannot go with kind=admin');
  if (action !== null && action !== 'inference' && kind === 'inference') invalid(`action ${quoted(action)} names admin entries: it cannot go with kind=inference`);
  const model = seen.get('model') ?? null;
  if (model !== null && !MODEL_NAME.test(model)) invalid('model must be a model name: 1 to 128 of A-Z a-z 0-9 _ . -');
  const tenant = seen.get('tenant') ?? null;
  if (tenant !== null && tenant.length > 128) invalid('tenant must be a tenant id of at most 128 characters');
  const sinceMs = time('since', seen.get('since'));
  const untilMs = time('until', seen.get('until'));
  if (sinceMs !== null && untilMs !== null && sinceMs > untilMs) invalid(`since (${new Date(sinceMs).toISOString()}) must not be after until (${new Date(untilMs).toISOString()})`);
  const before = seen.get('before') ?? null;
  if (before !== null && !STREAM_ID.test(before)) invalid(`before must be an entry id as the answer's next_before gives it (<milliseconds>-<sequence>), got ${quoted(before)}`);
  const format = seen.get('format') ?? 'json';
  if (format !== 'json' && format !== 'jsonl') invalid(`format must be "json" or "jsonl", got ${quoted(format)}`);
  return {
    query: { kinds: kind === undefined ? AUDIT_KINDS : [kind as AuditKind], tenant, model, action, sinceMs, untilMs, before },
    limit: limit(seen.get('limit')),
    format,
  };
}

function limit(value: string | undefined): number | null {
  if (value === undefined) return null;
  const parsed = /^[0-9]{1,7}$/.test(value) ? Number(value) : NaN;
  if (!(parsed >= 1 && parsed <= AUDIT_MAX_LIMIT)) invalid(`limit must be an integer from 1 to ${AUDIT_MAX_LIMIT}, got ${quoted(value)}`);
  return parsed;
}

/** An ISO 8601 time (a day alone is its midnight UTC) or epoch milliseconds. */
function time(parameter: string, value: string | undefined): number | null {
  if (value === undefined) return null;
  const ms = EPOCH_MS.test(value) ? Number(value) : ISO_TIME.test(value) ? Date.parse(value) : NaN;
  if (!Number.isSafeInteger(ms) || ms < 0) invalid(`${parameter} must be an ISO 8601 time (e.g. 2026-11-01T08:00:00Z) or epoch milliseconds, got ${quoted(value)}`);
  return ms;
}

function quoted(value: string): string {
  return JSON.stringify(value.slice(0, 40));
}

function invalid(message: string): never {
  throw new TriageError('INVALID_ARGUMENT', message);
}
