import { AUDIT_EXPORT_MAX_SCANNED, AUDIT_MAX_SCANNED, SCANNED_TO_TRAILER } from './audit-handlers';
import { AUDIT_DEFAULT_LIMIT, AUDIT_MAX_LIMIT } from './audit-query';
import { nullable, operation, READ_ERRORS, ref, type Json } from './openapi-parts';

const TIME: Json = { type: 'string', format: 'date-time' };
const ENTRY_ID: Json = { type: 'string', pattern: '^[0-9]+-[0-9]+$', description: 'The stream entry id: <milliseconds>-<sequence>, ordered by time.' };
const MOMENT: Json = { type: 'string', description: 'An ISO 8601 time (2026-11-01T08:00:00Z; a day alone is its midnight UTC) or epoch milliseconds.' };

/** Schemas of the audit log, merged into the document's components. */
export const AUDIT_SCHEMAS: Record<string, Json> = {
  AdminAuditEntry: {
    type: 'object',
    description: 'An admin change: who, what, when, the resource before and after (a key as its public record: never its secret or hash; a job as ids and counts: never its rows).',
    required: ['id', 'at', 'kind', 'actor', 'action', 'target', 'before', 'after'],
    properties: {
      id: ENTRY_ID,
      at: TIME,
      kind: { const: 'admin' },
      actor: { type: 'object', required: ['tenant_id', 'key_id'], properties: { tenant_id: { type: 'string' }, key_id: { type: 'string' } } },
      action: { type: 'string', description: 'tenant.create|update|delete, key.create|revoke, quota.set, job.create|cancel, model.create|adopt|version.create|version.delete|config.update|deploy|undeploy|delete.' },
      target: { type: 'string', description: 'tenant/<id>, tenant/<id>/key/<key_id>, tenant/<id>/quotas, job/<id> or model/<name>.' },
      before: { description: 'The resource before the change (null when created).' },
      after: { description: 'The resource after the change (null when deleted).' },
    },
  },
  InferenceAuditEntry: {
    type: 'object',
    description: 'The metadata of one inference call; never a payload byte.',
    required: ['id', 'at', 'kind', 'tenant_id', 'key_id', 'model', 'version', 'request_id', 'protocol', 'rpc', 'code', 'failed', 'refused_by', 'latency_ms', 'upstream_ms', 'instance', 'bytes_in', 'bytes_out'],
    properties: {
      id: ENTRY_ID,
      at: { ...TIME, description: 'When the call ended.' },
      kind: { const: 'inference' },
      tenant_id: nullable({ type: 'string', description: 'null when the call was refused before its key was known.' }),
      key_id: nullable({ type: 'string' }),
      model: { type: 'string', description: 'A name that is not a valid model name is stored as a placeholder.' },
      version: { type: 'string' },
      request_id: { type: 'string', description: 'The client\'s x-request-id (at most 128 printable characters) or one triage made up.' },
      protocol: { enum: ['grpc', 'http'] },
      rpc: { type: 'string' },
      code: { type: 'string', description: 'The gRPC status name (OK, RESOURCE_EXHAUSTED, ...) or the HTTP status.' },
      failed: { type: 'boolean' },
      refused_by: nullable({ type: 'string', description: 'The quota that refused the call.' }),
      latency_ms: { type: 'number' },
      upstream_ms: nullable({ type: 'number' }),
      instance: nullable({ type: 'string' }),
      bytes_in: { type: 'integer', minimum: 0 },
      bytes_out: { type: 'integer', minimum: 0 },
    },
  },
  AuditPage: {
    type: 'object',
    required: ['entries', 'next_before'],
    properties: {
      entries: { type: 'array', items: { oneOf: [ref('AdminAuditEntry'), ref('InferenceAuditEntry')] }, description: 'Newest first.' },
      next_before: nullable({ ...ENTRY_ID, description: 'Pass as `before` for the next page; null when nothing older is left.' }),
      scanned_to: { ...ENTRY_ID, description: `Present when the page stopped after examining ${AUDIT_MAX_SCANNED} entries without filling up: every entry newer than this id was examined; next_before equals it.` },
    },
  },
};

const PARAMETERS = [
  { name: 'kind', in: 'query', schema: { enum: ['admin', 'inference'] }, description: 'Default: both, merged newest first.' },
  { name: 'tenant', in: 'query', schema: { type: 'string' }, description: 'Entries of this tenant: its inferences, and admin changes it made or that concern it. A tenant\'s key: its own tenant only (another is a 404).' },
  { name: 'model', in: 'query', schema: { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' } },
  { name: 'action', in: 'query', schema: { type: 'string' }, description: 'An admin action (model.deploy, tenant.create, ...) or `inference`.' },
  { name: 'since', in: 'query', schema: MOMENT, description: 'Entries written at or after this time.' },
  { name: 'until', in: 'query', schema: MOMENT, description: 'Entries written at or before this time.' },
  { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: AUDIT_MAX_LIMIT }, description: `Default ${AUDIT_DEFAULT_LIMIT}; with format=jsonl, default: every matching entry.` },
  { name: 'before', in: 'query', schema: ENTRY_ID, description: 'Cursor: entries older than this id (the previous answer\'s next_before).' },
  { name: 'format', in: 'query', schema: { enum: ['json', 'jsonl'] }, description: 'jsonl: every matching entry as an attachment, one JSON object per line.' },
];

/** Paths of the audit log, merged into the document's paths. */
export const AUDIT_PATHS: Record<string, Json> = {
  '/v1/audit': {
    get: operation('The audit log: admin changes and inference metadata, newest first, filtered, as pages or a JSONL export.', 'read', {
      200: {
        description: `A page (JSON), or with format=jsonl every matching entry (application/x-ndjson, an attachment), examining at most ${AUDIT_EXPORT_MAX_SCANNED} entries; `
          + `when that bound stopped it, the trailer ${SCANNED_TO_TRAILER} gives the id to pass as before to go on.`,
        content: { 'application/json': { schema: ref('AuditPage') }, 'application/x-ndjson': { schema: { type: 'string', description: 'One AdminAuditEntry or InferenceAuditEntry per line.' } } },
      },
    }, [400, ...READ_ERRORS], { parameters: PARAMETERS }),
  },
};
