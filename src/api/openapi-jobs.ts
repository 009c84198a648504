import { MAX_ROW_BYTES } from '../jobs/job-intake';
import { DEFAULT_COMPLETION_WINDOW } from '../jobs/job-options';
import { JOB_STATUSES } from '../jobs/job-record';
import { LISTED_PROBLEMS } from '../jobs/row-problem';
import { MAX_LIST } from '../jobs/job-service';
import { error, ERRORS, json, nullable, ok, ref, type ErrorStatus, type Json } from './openapi-parts';

const TIME: Json = { type: 'string', format: 'date-time' };
const JOB_ID = { name: 'id', in: 'path', required: true, schema: { type: 'string', pattern: '^job_[A-Za-z0-9]{20}$' } };
const MODEL_NAME: Json = { type: 'string', pattern: '^[A-Za-z0-9_.-]{1,128}$' };
const WINDOW: Json = { type: 'string', pattern: '^[0-9]{1,7}(s|m|h|d)$', description: `How long the job may take, from its creation (1s to 30d). Default ${DEFAULT_COMPLETION_WINDOW}; after it the job expires.` };
const PRIORITY: Json = { type: 'integer', minimum: 0, maximum: 1_000_000, description: 'Triton priority of the job\'s requests (1 = highest, 0 = the model\'s default). Default: the model\'s lowest level when it has priority_levels, else 0.' };
const VERSION: Json = { type: 'string', pattern: '^([1-9][0-9]*)?$', description: '"" or absent: the version routing picks.' };

/** What jobs routes answer besides success: the shared errors plus quota refusals and the job body's own limit. */
const JOB_ERRORS = {
  ...ERRORS,
  404: error('No such job. A job of another tenant is answered so, exactly as if it did not exist.'),
  409: error('The job has ended and cannot be cancelled.'),
  413: error('The body is larger than --jobs-max-body (after decompression); the connection is closed without reading the rest.'),
  429: error('A batch quota of the tenant: max_queued_jobs (QUOTA_EXCEEDED), max_rows_per_job, daily_batch_rows or the server\'s --jobs-max-rows (BUDGET_EXHAUSTED). The message names the limit; nothing was created.'),
} as const satisfies Record<string, Json>;

/** The job records (counts and timestamps, no rows) are readable by `read` keys too: the dashboard shows them. */
const RECORD_ACCESS: Json = { description: 'Needs the `jobs` or `read` scope (the key\'s tenant\'s jobs) or `admin` (every job).' };

function jobsOperation(summary: string, success: Record<string, Json>, errors: readonly (ErrorStatus | 429)[], extra: Json = {}): Json {
  const responses: Record<string, Json> = { ...success };
  for (const status of errors) responses[String(status)] = JOB_ERRORS[status];
  return { summary, description: 'Needs the `jobs` scope (the key\'s tenant\'s jobs) or `admin` (every job).', ...extra, responses };
}

const TENSOR: Json = {
  oneOf: [
    { type: 'array', description: 'The values as a nested array: its nesting is the shape.' },
    {
      type: 'object',
      required: ['shape', 'data'],
      additionalProperties: false,
      description: 'A KServe v2 JSON tensor; data flat (row-major) or nested.',
      properties: { name: { type: 'string' }, datatype: { type: 'string' }, shape: { type: 'array', items: { type: 'integer', minimum: 0 } }, data: { type: 'array' } },
    },
  ],
};

/** Schemas of batch jobs, merged into the document's components. */
export const JOB_SCHEMAS: Record<string, Json> = {
  JobRow: {
    type: 'object',
    required: ['custom_id', 'inputs'],
    additionalProperties: false,
    description: `One inference. When the model batches (max_batch_size > 0) each input is ONE item: the config's dims, or those with a leading batch dimension of 1. At most ${MAX_ROW_BYTES} bytes.`,
    properties: {
      custom_id: { type: 'string', minLength: 1, maxLength: 64, description: 'Printable, unique in the job; names the row in results and errors.' },
      inputs: { type: 'object', additionalProperties: TENSOR, description: 'Every input of the model (optional ones may be left out), by name.' },
    },
  },
  JobCreate: {
    type: 'object',
    required: ['model', 'rows'],
    additionalProperties: false,
    description: 'The JSON form. "model" (and "model_version") must come before "rows": rows are checked against the model as they arrive.',
    properties: {
      model: MODEL_NAME,
      model_version: VERSION,
      rows: { type: 'array', minItems: 1, items: ref('JobRow') },
      priority: PRIORITY,
      completion_window: WINDOW,
      metadata: { type: 'object', maxProperties: 16, additionalProperties: { type: 'string', maxLength: 512 } },
    },
  },
  JobRowProblem: {
    type: 'object',
    required: ['row', 'custom_id', 'field', 'rule'],
    properties: {
      row: { type: 'integer', description: 'JSONL: the line number; JSON: the 1-based position in rows.' },
      custom_id: nullable({ type: 'string' }),
      field: { type: 'string', description: 'custom_id, inputs.NAME, inputs.NAME.shape, ... or row.' },
      rule: { type: 'string' },
    },
  },
  Job: {
    type: 'object',
    required: ['id', 'tenant_id', 'model', 'model_version', 'status', 'priority', 'completion_window_s', 'metadata', 'request_counts', 'chunk_rows', 'chunks_total', 'chunks_done', 'created_at', 'expires_at', 'progress'],
    properties: {
      id: { type: 'string' },
      tenant_id: { type: 'string' },
      model: MODEL_NAME,
      model_version: VERSION,
      status: { enum: [...JOB_STATUSES] },
      priority: PRIORITY,
      completion_window_s: { type: 'integer' },
      metadata: { type: 'object', additionalProperties: { type: 'string' } },
      request_counts: { type: 'object', required: ['total', 'completed', 'failed'], properties: { total: { type: 'integer' }, completed: { type: 'integer' }, failed: { type: 'integer' } } },
      chunk_rows: { type: 'integer' },
      chunks_total: { type: 'integer' },
      chunks_done: { type: 'integer' },
      created_at: TIME,
      queued_at: nullable(TIME),
      in_progress_at: nullable(TIME),
      finalizing_at: nullable(TIME),
      completed_at: nullable(TIME),
      failed_at: nullable(TIME),
      cancelling_at: nullable(TIME),
      cancelled_at: nullable(TIME),
      expired_at: nullable(TIME),
      expires_at: TIME,
      error: nullable({ type: 'string' }),
      progress: {
        type: 'object',
        required: ['rows_done', 'rows_total', 'percent', 'rows_per_second', 'eta_seconds'],
        properties: {
          rows_done: { type: 'integer' },
          rows_total: { type: 'integer' },
          percent: { type: 'number' },
          rows_per_second: nullable({ type: 'number', description: 'Recent rate while running; the average once ended.' }),
          eta_seconds: nullable({ type: 'integer' }),
        },
      },
    },
  },
};

const JOB: Record<string, Json> = ok('The job.', ref('Job'));
const JSONL: Json = { type: 'string', description: 'JSONL: one line per row.' };
const LINES = (description: string): Record<string, Json> => ({ 200: { description, content: { 'application/x-ndjson': { schema: JSONL } } } });
const CREATE_PARAMETERS = [
  { name: 'model', in: 'query', schema: MODEL_NAME, description: 'Required with a JSONL body.' },
  { name: 'model_version', in: 'query', schema: VERSION },
  { name: 'priority', in: 'query', schema: PRIORITY },
  { name: 'completion_window', in: 'query', schema: WINDOW },
  { name: 'Idempotency-Key', in: 'header', schema: { type: 'string', minLength: 1, maxLength: 255 }, description: 'A retried create with the same key returns the job the first one created (200, idempotent-replayed: true).' },
];

/** Paths of batch jobs, merged into the document's paths. */
export const JOB_PATHS: Record<string, Json> = {
  '/v1/jobs': {
    post: jobsOperation('Create a batch job: rows checked against the model\'s metadata, stored encrypted, queued for the workers.', {
      200: { description: 'The job an earlier create with the same Idempotency-Key made; nothing new was created.', ...json(ref('Job')) },
      201: { description: 'The new job (status queued).', ...json(ref('Job')) },
    }, [400, 401, 403, 404, 413, 429, 503], {
      parameters: CREATE_PARAMETERS,
      requestBody: {
        required: true,
        description: `A JSON object (JobCreate) or JSONL (Content-Type application/x-ndjson; one JobRow per line; ?model= required), streamed, optionally gzip or deflate. A 400 lists the first ${LISTED_PROBLEMS} problems in "errors" (JobRowProblem), with "error_count" and "invalid_rows"; nothing is created.`,
        content: { 'application/json': { schema: ref('JobCreate') }, 'application/x-ndjson': { schema: { type: 'string', description: 'One JobRow per line.' } } },
      },
    }),
    get: jobsOperation('List jobs, newest first.', ok('The jobs.', { type: 'object', required: ['jobs'], properties: { jobs: { type: 'array', items: ref('Job') } } }), [400, 401, 403, 404, 503], {
      ...RECORD_ACCESS,
      parameters: [
        { name: 'tenant', in: 'query', schema: { type: 'string' }, description: 'Admin keys: only this tenant\'s jobs (default: every tenant\'s). A tenant\'s key: only its own tenant.' },
        { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: MAX_LIST }, description: 'Default 100.' },
      ],
    }),
  },
  '/v1/jobs/{id}': {
    parameters: [JOB_ID],
    get: jobsOperation('Get a job: status, request_counts, progress (rate, ETA), timestamps.', JOB, [401, 403, 404, 503], RECORD_ACCESS),
  },
  '/v1/jobs/{id}/results': {
    parameters: [JOB_ID],
    get: jobsOperation('The result lines committed so far, in chunk order: {"custom_id", "outputs": {NAME: nested array}}.', LINES('Result lines (JSONL), streamed.'), [401, 403, 404, 503]),
  },
  '/v1/jobs/{id}/errors': {
    parameters: [JOB_ID],
    get: jobsOperation('The error lines committed so far, in chunk order: {"custom_id", "error": {"code", "message", "retryable"}}.', LINES('Error lines (JSONL), streamed.'), [401, 403, 404, 503]),
  },
  '/v1/jobs/{id}/cancel': {
    parameters: [JOB_ID],
    post: jobsOperation('Cancel a job: cancelling at once, cancelled once the workers have stopped (within one chunk); rows not run get error lines "cancelled".', JOB, [401, 403, 404, 409, 503]),
  },
};
