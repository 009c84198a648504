import { SCOPES } from '../tenancy/tenancy-records';
import { MODEL_PATHS, MODEL_SCHEMAS } from './openapi-models';
import { JOB_PATHS, JOB_SCHEMAS } from './openapi-jobs';
import { AUDIT_PATHS, AUDIT_SCHEMAS } from './openapi-audit';
import { OBSERVABILITY_PATHS, OBSERVABILITY_SCHEMAS } from './openapi-observability';
import { body, created, json, nullable, ok, operation, READ_ERRORS, ref, WRITE_ERRORS, type Json } from './openapi-parts';
import { USAGE_CSV_COLUMNS } from './usage-csv';
import { MAX_USAGE_DAYS } from './usage-query';

const count = (maximum: number, minimum = 0): Json => nullable({ type: 'integer', minimum, maximum });
const rate: Json = nullable({ type: 'number', exclusiveMinimum: 0, maximum: 1_000_000 });
const MAX_COUNT = 1_000_000_000_000;

/** The limits of quota-config.ts (parseTenantQuotas is the authority; a test checks the two agree). */
const LIMIT_PROPERTIES: Record<string, Json> = {
  requests_per_second: rate,
  burst: count(MAX_COUNT, 1),
  inferences_per_second: rate,
  inference_burst: count(MAX_COUNT, 1),
  max_concurrent: count(MAX_COUNT, 1),
  daily_requests: count(MAX_COUNT),
  monthly_requests: count(MAX_COUNT),
  daily_inferences: count(MAX_COUNT),
  monthly_inferences: count(MAX_COUNT),
  max_request_bytes: count(2 ** 31 - 1, 1),
};

const MODEL_NAME: Json = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' };
const TIME: Json = { type: 'string', format: 'date-time' };
const DAY: Json = { type: 'string', format: 'date', pattern: '^[0-9]{4}-[0-9]{2}-[0-9]{2}$' };
const LABELS: Json = { type: 'object', maxProperties: 64, propertyNames: { pattern: '^[A-Za-z0-9_./-]{1,63}$' }, additionalProperties: { type: 'string', maxLength: 256 } };
const TENANT_NAME: Json = { type: 'string', pattern: '^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$' };

const SCHEMAS: Record<string, Json> = {
  Error: {
    type: 'object',
    required: ['error'],
    properties: {
      error: { type: 'string', description: 'What went wrong, naming the field and the rule.' },
      problems: { type: 'array', description: 'With 422: every problem of the model.', items: ref('ModelProblem') },
    },
  },
  Tenant: {
    type: 'object',
    required: ['id', 'name', 'status', 'labels', 'created_at', 'updated_at'],
    properties: { id: { type: 'string' }, name: TENANT_NAME, status: { enum: ['active', 'suspended'] }, labels: LABELS, created_at: TIME, updated_at: TIME },
  },
  TenantCreate: { type: 'object', required: ['name'], additionalProperties: false, properties: { name: TENANT_NAME, labels: LABELS } },
  TenantUpdate: {
    type: 'object',
    additionalProperties: false,
    properties: { name: TENANT_NAME, status: { enum: ['active', 'suspended'], description: 'suspended: every key of the tenant is refused (403).' }, labels: LABELS },
  },
  ApiKey: {
    type: 'object',
    description: 'An API key as the API shows it: never its secret, never a hash of it.',
    required: ['key_id', 'tenant_id', 'scopes', 'created_at', 'expires_at', 'revoked_at'],
    properties: {
      key_id: { type: 'string', description: 'Public id, also inside the key: trg_<key_id>_<secret>.' },
      tenant_id: { type: 'string' },
      scopes: { type: 'array', items: { enum: [...SCOPES] } },
      created_at: TIME,
      expires_at: nullable(TIME),
      revoked_at: nullable(TIME),
    },
  },
  CreatedApiKey: {
    allOf: [ref('ApiKey'), { type: 'object', required: ['key'], properties: { key: { type: 'string', description: 'The secret key, shown in this answer only.' } } }],
  },
  KeyCreate: {
    type: 'object',
    required: ['scopes'],
    additionalProperties: false,
    properties: { scopes: { type: 'array', minItems: 1, items: { enum: [...SCOPES] } }, expires_at: nullable({ ...TIME, description: 'In the future; null or absent: never.' }) },
  },
  QuotaLimits: { type: 'object', additionalProperties: false, properties: LIMIT_PROPERTIES, description: 'Null or absent: no limit.' },
  Quotas: {
    type: 'object',
    additionalProperties: false,
    properties: {
      ...LIMIT_PROPERTIES,
      allowed_models: { oneOf: [{ type: 'array', items: MODEL_NAME }, { const: 'all' }, { type: 'null' }], description: 'Models the tenant may use; "all", null or absent: every model.' },
      priority: count(1_000_000),
      models: { type: 'object', propertyNames: MODEL_NAME, additionalProperties: ref('QuotaLimits'), description: 'Limits for one model, checked besides the tenant\'s.' },
      max_queued_jobs: { ...count(MAX_COUNT), description: 'Batch jobs not yet ended allowed at once (429 QUOTA_EXCEEDED at create).' },
      max_rows_per_job: { ...count(MAX_COUNT, 1), description: 'Rows one batch job may hold (429 BUDGET_EXHAUSTED at create).' },
      daily_batch_rows: { ...count(MAX_COUNT), description: 'Rows of batch jobs created per UTC day (429 BUDGET_EXHAUSTED at create).' },
    },
  },
  UsageRow: {
    type: 'object',
    required: [...USAGE_CSV_COLUMNS],
    properties: Object.fromEntries(USAGE_CSV_COLUMNS.map((column) => [column, column === 'day' ? DAY : column === 'tenant_id' || column === 'model' ? { type: 'string' } : { type: 'integer', minimum: 0 }])),
  },
  Usage: {
    type: 'object',
    required: ['from', 'to', 'tenant', 'model', 'rows'],
    properties: { from: DAY, to: DAY, tenant: nullable({ type: 'string' }), model: nullable({ type: 'string' }), rows: { type: 'array', items: ref('UsageRow') } },
  },
};

const TENANT_ID = { name: 'id', in: 'path', required: true, schema: { type: 'string' } };
const KEY_ID = { name: 'key_id', in: 'path', required: true, schema: { type: 'string' } };
const USAGE_PARAMETERS = [
  { name: 'from', in: 'query', schema: DAY, description: 'First day (UTC), inclusive. Default: the first day of `to`\'s month.' },
  { name: 'to', in: 'query', schema: DAY, description: `Last day (UTC), inclusive. Default: today. At most ${MAX_USAGE_DAYS} days from \`from\`.` },
  { name: 'tenant', in: 'query', schema: { type: 'string' }, description: 'Only this tenant (`admin`: the bootstrap key\'s own traffic). Default: every tenant the key may see.' },
  { name: 'model', in: 'query', schema: { type: 'string' }, description: 'Only this model.' },
  { name: 'format', in: 'query', schema: { enum: ['json', 'csv'] }, description: 'csv: the billing export. Default: by the Accept header (text/csv or JSON).' },
];

/**
 * The OpenAPI 3.1 document of the admin API, served at GET /v1/openapi.json. A test
 * checks that its paths and methods are exactly the router's.
 */
export function openApiDocument(version: string): Json {
  return {
    openapi: '3.1.0',
    info: {
      title: 'triage admin API',
      version,
      description: 'Tenants, API keys, quotas, usage and the model registry of a triage gateway. JSON members are snake_case; '
        + 'unknown members are refused. Every error answers {"error": message} with the HTTP status of its code (docs/errors.md).',
    },
    security: [{ bearer: [] }, { apiKey: [] }],
    paths: {
      '/v1/openapi.json': { get: { summary: 'This document.', security: [], responses: { 200: { description: 'The OpenAPI document.', ...json({ type: 'object' }) } } } },
      '/v1/tenants': {
        get: operation('List tenants (a tenant\'s key: only its own).', 'read', ok('The tenants.', { type: 'object', required: ['tenants'], properties: { tenants: { type: 'array', items: ref('Tenant') } } }), [401, 403, 503]),
        post: operation('Create a tenant.', 'admin', created('The new tenant.', ref('Tenant')), [400, 401, 403, 409, 413, 503], body(ref('TenantCreate'))),
      },
      '/v1/tenants/{id}': {
        parameters: [TENANT_ID],
        get: operation('Get a tenant.', 'read', ok('The tenant.', ref('Tenant')), READ_ERRORS),
        patch: operation('Rename, suspend, resume or relabel a tenant.', 'admin', ok('The tenant as changed.', ref('Tenant')), [...WRITE_ERRORS, 409], body(ref('TenantUpdate'))),
        delete: operation('Delete a tenant with its keys and quotas (usage history stays until it expires).', 'admin', ok('The tenant as it was.', ref('Tenant')), READ_ERRORS),
      },
      '/v1/tenants/{id}/keys': {
        parameters: [TENANT_ID],
        get: operation('List a tenant\'s keys (no secrets).', 'read', ok('The keys.', { type: 'object', required: ['keys'], properties: { keys: { type: 'array', items: ref('ApiKey') } } }), READ_ERRORS),
        post: operation('Create a key; its secret is in this answer only.', 'admin', created('The new key with its secret.', ref('CreatedApiKey')), WRITE_ERRORS, body(ref('KeyCreate'))),
      },
      '/v1/tenants/{id}/keys/{key_id}': {
        parameters: [TENANT_ID, KEY_ID],
        delete: operation('Revoke a key; every replica refuses it within a second.', 'admin', ok('The key as revoked.', ref('ApiKey')), READ_ERRORS),
      },
      '/v1/tenants/{id}/quotas': {
        parameters: [TENANT_ID],
        get: operation('Get a tenant\'s quotas.', 'read', ok('The quotas document.', ref('Quotas')), READ_ERRORS),
        put: operation('Replace a tenant\'s quotas.', 'admin', ok('The quotas as stored.', ref('Quotas')), WRITE_ERRORS, body(ref('Quotas'))),
      },
      '/v1/usage': {
        get: operation('Usage per tenant, model and day, as JSON or as the billing CSV.', 'read', {
          200: {
            description: `The usage rows, sorted by tenant, day and model. CSV: a header row (${USAGE_CSV_COLUMNS.join(',')}), then one row per tenant, model and day.`,
            content: { 'application/json': { schema: ref('Usage') }, 'text/csv': { schema: { type: 'string' } } },
          },
        }, [400, ...READ_ERRORS], { parameters: USAGE_PARAMETERS }),
      },
      ...MODEL_PATHS,
      ...JOB_PATHS,
      ...AUDIT_PATHS,
      ...OBSERVABILITY_PATHS,
    },
    components: {
      schemas: { ...SCHEMAS, ...MODEL_SCHEMAS, ...JOB_SCHEMAS, ...AUDIT_SCHEMAS, ...OBSERVABILITY_SCHEMAS },
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: 'authorization: Bearer <key>' },
        apiKey: { type: 'apiKey', in: 'header', name: 'x-api-key' },
      },
    },
  };
}
