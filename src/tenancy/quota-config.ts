import { TriageError } from '../errors/triage-error';

/** Limits that apply to a tenant, or to one of its models when set under `models`. Null or absent: no limit. */
export interface QuotaLimits {
  readonly requests_per_second?: number | null;
  /** Requests allowed at once beyond the steady rate (GCRA burst). Default: one second's worth. */
  readonly burst?: number | null;
  readonly inferences_per_second?: number | null;
  /** Inferences allowed at once beyond the steady rate. Default: one second's worth. */
  readonly inference_burst?: number | null;
  readonly max_concurrent?: number | null;
  readonly daily_requests?: number | null;
  readonly monthly_requests?: number | null;
  readonly daily_inferences?: number | null;
  readonly monthly_inferences?: number | null;
  readonly max_request_bytes?: number | null;
}

/** A tenant's quotas: its own limits, which models it may use, its priority, and per-model overrides. */
export interface TenantQuotas extends QuotaLimits {
  /** Models the tenant may use; null or absent: all. */
  readonly allowed_models?: readonly string[] | null;
  /** Triton priority level given to the tenant's requests (1 = highest; 0 or absent: the model's default). */
  readonly priority?: number | null;
  readonly models?: Readonly<Record<string, QuotaLimits>>;
  /** Batch jobs of the tenant not yet ended (validating .. finalizing, cancelling) allowed at once. */
  readonly max_queued_jobs?: number | null;
  /** Rows one batch job may hold. */
  readonly max_rows_per_job?: number | null;
  /** Rows of batch jobs the tenant may create per UTC day. */
  readonly daily_batch_rows?: number | null;
}

/** Limits of batch jobs: tenant-level only (a job is not counted against one model's overrides). */
const JOB_RULES: Readonly<Record<'max_queued_jobs' | 'max_rows_per_job' | 'daily_batch_rows', Rule>> = {
  max_queued_jobs: { kind: 'count' },
  max_rows_per_job: { kind: 'positive-count' },
  daily_batch_rows: { kind: 'count' },
};

const MAX_RATE = 1_000_000;
const MAX_COUNT = 1_000_000_000_000;

type Rule = { kind: 'rate' | 'count' | 'positive-count' | 'bytes' };

const LIMIT_RULES: Readonly<Record<keyof QuotaLimits, Rule>> = {
  requests_per_second: { kind: 'rate' },
  burst: { kind: 'positive-count' },
  inferences_per_second: { kind: 'rate' },
  inference_burst: { kind: 'positive-count' },
  max_concurrent: { kind: 'positive-count' },
  daily_requests: { kind: 'count' },
  monthly_requests: { kind: 'count' },
  daily_inferences: { kind: 'count' },
  monthly_inferences: { kind: 'count' },
  max_request_bytes: { kind: 'bytes' },
};

const MODEL_NAME = /^[A-Za-z0-9_.-]{1,128}$/;
/** Names that would reach an object's prototype when used as keys. */
const RESERVED_NAMES = new Set(['__proto__', 'constructor', 'prototype']);

/**
 * Checks a quotas document (the body of PUT /v1/tenants/{id}/quotas) and returns it
 * normalized. Throws INVALID_ARGUMENT naming the field and the rule for an unknown
 * field, a wrong type, or a negative or absurd value.
 */
export function parseTenantQuotas(value: unknown): TenantQuotas {
  const object = asObject(value, 'quotas');
  const quotas: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(object)) {
    if (field in LIMIT_RULES) {
      quotas[field] = checkLimit(field, LIMIT_RULES[field as keyof QuotaLimits], fieldValue);
    } else if (field in JOB_RULES) {
      quotas[field] = checkLimit(field, JOB_RULES[field as keyof typeof JOB_RULES], fieldValue);
    } else if (field === 'allowed_models') {
      quotas[field] = checkModelList(fieldValue);
    } else if (field === 'priority') {
      quotas[field] = fieldValue === null ? null : checkInteger(field, fieldValue, 0, 1_000_000);
    } else if (field === 'models') {
      const models = asObject(fieldValue, 'models');
      const parsed: Record<string, QuotaLimits> = {};
      for (const [model, limits] of Object.entries(models)) {
        if (!MODEL_NAME.test(model) || RESERVED_NAMES.has(model)) invalid(`models.${model}`, 'must be a model name (letters, digits, _ . -, at most 128; not __proto__, constructor or prototype)');
        parsed[model] = parseLimits(limits, `models.${model}`);
      }
      quotas[field] = parsed;
    } else {
      invalid(field, `is not a quota field (known: ${[...Object.keys(LIMIT_RULES), 'allowed_models', 'priority', 'models', ...Object.keys(JOB_RULES)].join(', ')})`);
    }
  }
  return quotas as TenantQuotas;
}

function parseLimits(value: unknown, path: string): QuotaLimits {
  const object = asObject(value, path);
  const limits: Record<string, unknown> = {};
  for (const [field, fieldValue] of Object.entries(object)) {
    const rule = LIMIT_RULES[field as keyof QuotaLimits];
    if (rule === undefined) invalid(`${path}.${field}`, `is not a per-model limit (known: ${Object.keys(LIMIT_RULES).join(', ')})`);
    limits[field] = checkLimit(`${path}.${field}`, rule, fieldValue);
  }
  return limits as QuotaLimits;
}

function checkLimit(field: string, rule: Rule, value: unknown): number | null {
  if (value === null) return null;
  switch (rule.kind) {
    case 'rate':
      if (typeof value !== 'number' || !Number.isFinite(value)) invalid(field, `must be a number of requests per second, got ${describe(value)}`);
      if (value <= 0 || value > MAX_RATE) invalid(field, `must be greater than 0 and at most ${MAX_RATE}, got ${value}`);
      return value;
    case 'count':
      return checkInteger(field, value, 0, MAX_COUNT);
    case 'positive-count':
      return checkInteger(field, value, 1, MAX_COUNT);
    case 'bytes':
      return checkInteger(field, value, 1, 2 ** 31 - 1);
  }
}

function checkInteger(field: string, value: unknown, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value)) invalid(field, `must be an integer, got ${describe(value)}`);
  if (value < min || value > max) invalid(field, `must be between ${min} and ${max}, got ${value}`);
  return value;
}

function checkModelList(value: unknown): readonly string[] | null {
  if (value === null || value === 'all') return null;
  if (!Array.isArray(value)) invalid('allowed_models', `must be a list of model names or "all", got ${describe(value)}`);
  return value.map((model, index) => {
    if (typeof model !== 'string' || !MODEL_NAME.test(model)) invalid(`allowed_models[${index}]`, `must be a model name (letters, digits, _ . -, at most 128), got ${describe(model)}`);
    return model;
  });
}

function asObject(value: unknown, field: string): Record<string, unknown> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) invalid(field, `must be a JSON object, got ${describe(value)}`);
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}...` : value)}`;
  return `${typeof value} ${JSON.stringify(value)}`;
}

function invalid(field: string, rule: string): never {
  throw new TriageError('INVALID_ARGUMENT', `${field} ${rule}`);
}

/** The limits that apply to a request for `model`: the tenant's, and the model's override when there is one. */
export function limitsFor(quotas: TenantQuotas, model: string): { tenant: QuotaLimits; model: QuotaLimits | null } {
  return { tenant: quotas, model: quotas.models?.[model] ?? null };
}

export function modelAllowed(quotas: TenantQuotas, model: string): boolean {
  return quotas.allowed_models === null || quotas.allowed_models === undefined || quotas.allowed_models.includes(model);
}
