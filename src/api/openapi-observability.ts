import { nullable, ok, operation, READ_ERRORS, ref, type Json } from './openapi-parts';

const TIME: Json = { type: 'string', format: 'date-time' };
const MS: Json = nullable({ type: 'number', minimum: 0 });
const COUNT: Json = { type: 'integer', minimum: 0 };
const BYTES: Json = nullable({ type: 'integer', minimum: 0 });

/** Schemas of what the dashboard reads, merged into the document's components. */
export const OBSERVABILITY_SCHEMAS: Record<string, Json> = {
  WhoAmI: {
    type: 'object',
    required: ['tenant_id', 'key_id', 'scopes'],
    properties: { tenant_id: { type: 'string' }, key_id: { type: 'string' }, scopes: { type: 'array', items: { type: 'string' } } },
  },
  TrafficPoint: {
    type: 'object',
    required: ['at', 'requests', 'errors', 'quota_rejections', 'p50_ms', 'p99_ms'],
    properties: { at: TIME, requests: COUNT, errors: COUNT, quota_rejections: COUNT, p50_ms: MS, p99_ms: MS },
  },
  TrafficOverview: {
    type: 'object',
    required: ['scope', 'tenant_id', 'step_seconds', 'window_seconds', 'series', 'totals'],
    properties: {
      scope: { enum: ['all', 'tenant'] },
      tenant_id: nullable({ type: 'string' }),
      step_seconds: { type: 'integer' },
      window_seconds: { type: 'integer' },
      series: { type: 'array', items: ref('TrafficPoint'), description: 'Oldest first, one point per step (zeros when idle). Latencies are estimated from 24 log-spaced buckets.' },
      totals: {
        type: 'object',
        required: ['requests_per_second', 'error_rate', 'p50_ms', 'p99_ms', 'requests', 'quota_rejections'],
        properties: {
          requests_per_second: { type: 'number', minimum: 0, description: 'Over the last 60 s.' },
          error_rate: { type: 'number', minimum: 0, maximum: 1, description: 'Failed calls / all calls over the last 5 minutes.' },
          p50_ms: MS,
          p99_ms: MS,
          requests: { ...COUNT, description: 'Over the whole window.' },
          quota_rejections: { ...COUNT, description: 'Over the whole window.' },
        },
      },
    },
  },
  Instance: {
    type: 'object',
    required: ['address', 'health', 'ready', 'in_flight', 'last_error', 'models', 'gpu', 'cpu_memory_used_bytes'],
    properties: {
      address: { type: 'string' },
      health: { enum: ['unknown', 'healthy', 'ejected'] },
      ready: { type: 'boolean', description: 'ServerReady as last probed.' },
      in_flight: { ...COUNT, description: 'Calls this triage process has in flight on the instance.' },
      last_error: nullable({ type: 'string' }),
      models: { type: 'array', items: { type: 'object', required: ['name', 'versions'], properties: { name: { type: 'string' }, versions: { type: 'array', items: { type: 'string' } } } } },
      gpu: {
        type: 'array',
        description: 'From the instance\'s own metrics (nv_gpu_*), when they are scraped; empty otherwise.',
        items: { type: 'object', properties: { index: { type: 'string' }, uuid: { type: 'string' }, utilization: nullable({ type: 'number' }), memory_used_bytes: BYTES, memory_total_bytes: BYTES } },
      },
      cpu_memory_used_bytes: BYTES,
    },
  },
};

const WINDOW = { name: 'window_seconds', in: 'query', required: false, schema: { type: 'integer', minimum: 60, maximum: 3600, multipleOf: 10, default: 3600 } };
const TENANT = { name: 'tenant', in: 'query', required: false, schema: { type: 'string' }, description: 'One tenant\'s traffic (a tenant\'s key: only its own). Default: every call for an administrator, the key\'s tenant otherwise.' };

export const OBSERVABILITY_PATHS: Record<string, Json> = {
  '/v1/whoami': {
    get: { ...operation('The tenant, key id and scopes of the calling key.', 'read', ok('The key.', ref('WhoAmI')), [401, 403, 503]), description: 'Any valid key.' },
  },
  '/v1/overview': {
    get: operation('Traffic over the last hour in 10 s steps: requests, failures, quota rejections, p50 and p99 latency (every replica\'s calls).', 'read', ok('The series and its totals.', ref('TrafficOverview')), [400, ...READ_ERRORS], { parameters: [WINDOW, TENANT] }),
  },
  '/v1/instances': {
    get: operation('The Triton instances: health, readiness, calls in flight, READY models, and GPU figures when the instance reports them.', 'read', ok('Every instance of the pool.', { type: 'object', required: ['instances'], properties: { instances: { type: 'array', items: ref('Instance') } } }), [401, 403, 503]),
  },
};
