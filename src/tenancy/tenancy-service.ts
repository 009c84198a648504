import { TriageError } from '../errors/triage-error';
import type { AuditActor } from '../observability/audit-entries';
import { INTERNAL_ACTOR, type AuditLog } from '../observability/audit-log';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { generateKey, randomText } from './api-key-format';
import { invalidateKey, invalidateTenant, type InvalidationBus } from './invalidation-bus';
import { parseTenantQuotas, type TenantQuotas } from './quota-config';
import { ADMIN_TENANT_ID, publicKey, SCOPES, type ApiKeyRecord, type Scope, type TenantRecord, type TenantStatus } from './tenancy-records';
import type { TenancyStore } from './tenancy-store';
import { readUsage, type UsageRow } from './usage-meter';

const NAME = /^[A-Za-z0-9][A-Za-z0-9 _.-]{0,63}$/;
const LABEL_KEY = /^[A-Za-z0-9_.\/-]{1,63}$/;

export interface CreatedKey {
  /** The secret, shown this once. */
  readonly key: string;
  readonly record: Omit<ApiKeyRecord, 'secret_sha256'>;
}

/**
 * The rules of tenancy: tenants with unique names, keys with scopes and expiry shown once,
 * quotas checked field by field. Every change that affects authentication or quotas is
 * announced on the invalidation bus before the call returns, and every change is audited
 * (who, what, before, after) once it is stored: a key as its public record, never its
 * secret or the secret's hash. `actor` is the API caller; changes made without one (tools,
 * tests) are audited as INTERNAL_ACTOR.
 */
export class TenancyService {
  constructor(
    private readonly store: TenancyStore,
    private readonly bus: InvalidationBus,
    private readonly redis: RedisClient,
    private readonly keys: RedisKeys,
    private readonly audit: Pick<AuditLog, 'record'>,
    private readonly nowMs: () => number = Date.now,
  ) {}

  async createTenant(input: unknown, actor: AuditActor = INTERNAL_ACTOR): Promise<TenantRecord> {
    const body = objectBody(input, ['name', 'labels']);
    const name = checkName(body['name']);
    const now = new Date(this.nowMs()).toISOString();
    const tenant: TenantRecord = { id: `t_${randomText(12)}`, name, status: 'active', labels: checkLabels(body['labels'] ?? {}), created_at: now, updated_at: now };
    if (!(await this.store.createTenant(tenant))) throw new TriageError('ALREADY_EXISTS', `a tenant named '${name}' already exists`);
    await this.audit.record({ actor, action: 'tenant.create', target: tenantTarget(tenant.id), tenantId: tenant.id, before: null, after: tenant });
    return tenant;
  }

  listTenants(): Promise<TenantRecord[]> {
    return this.store.listTenants();
  }

  async getTenant(id: string): Promise<TenantRecord> {
    const tenant = id === ADMIN_TENANT_ID ? null : await this.store.getTenant(id);
    if (tenant === null) throw new TriageError('NOT_FOUND', `no tenant '${id}'`);
    return tenant;
  }

  async updateTenant(id: string, input: unknown, actor: AuditActor = INTERNAL_ACTOR): Promise<TenantRecord> {
    const body = objectBody(input, ['name', 'status', 'labels']);
    const previous = await this.getTenant(id);
    const status = body['status'] === undefined ? previous.status : checkStatus(body['status']);
    const next: TenantRecord = {
      ...previous,
      name: body['name'] === undefined ? previous.name : checkName(body['name']),
      status,
      labels: body['labels'] === undefined ? previous.labels : checkLabels(body['labels']),
      updated_at: new Date(this.nowMs()).toISOString(),
    };
    if (!(await this.store.updateTenant(previous, next))) throw new TriageError('ALREADY_EXISTS', `a tenant named '${next.name}' already exists`);
    await this.bus.publish(invalidateTenant(id));
    await this.audit.record({ actor, action: 'tenant.update', target: tenantTarget(id), tenantId: id, before: previous, after: next });
    return next;
  }

  async deleteTenant(id: string, actor: AuditActor = INTERNAL_ACTOR): Promise<void> {
    const tenant = await this.getTenant(id);
    await this.store.deleteTenant(tenant);
    await this.bus.publish(invalidateTenant(id));
    await this.audit.record({ actor, action: 'tenant.delete', target: tenantTarget(id), tenantId: id, before: tenant, after: null });
  }

  async createKey(tenantId: string, input: unknown, actor: AuditActor = INTERNAL_ACTOR): Promise<CreatedKey> {
    await this.getTenant(tenantId);
    const body = objectBody(input, ['scopes', 'expires_at']);
    const scopes = checkScopes(body['scopes']);
    const expiresAt = body['expires_at'] === undefined || body['expires_at'] === null ? null : checkExpiry(body['expires_at'], this.nowMs());
    const generated = generateKey();
    const record: ApiKeyRecord = {
      key_id: generated.keyId,
      tenant_id: tenantId,
      scopes,
      created_at: new Date(this.nowMs()).toISOString(),
      expires_at: expiresAt,
      revoked_at: null,
      secret_sha256: generated.secretHash,
    };
    await this.store.createKey(record);
    const visible = publicKey(record);
    await this.audit.record({ actor, action: 'key.create', target: keyTarget(tenantId, record.key_id), tenantId, before: null, after: visible });
    return { key: generated.key, record: visible };
  }

  async listKeys(tenantId: string): Promise<Omit<ApiKeyRecord, 'secret_sha256'>[]> {
    await this.getTenant(tenantId);
    return (await this.store.listKeys(tenantId)).map(publicKey);
  }

  async revokeKey(tenantId: string, keyId: string, actor: AuditActor = INTERNAL_ACTOR): Promise<Omit<ApiKeyRecord, 'secret_sha256'>> {
    const key = await this.store.getKey(keyId);
    if (key === null || key.tenant_id !== tenantId) throw new TriageError('NOT_FOUND', `tenant '${tenantId}' has no key '${keyId}'`);
    const revokedAt = key.revoked_at ?? new Date(this.nowMs()).toISOString();
    if (key.revoked_at === null) await this.store.revokeKey(keyId, revokedAt);
    await this.bus.publish(invalidateKey(keyId));
    const revoked = publicKey({ ...key, revoked_at: revokedAt });
    // Revoking a revoked key changes nothing: audited once, when it happened.
    if (key.revoked_at === null) await this.audit.record({ actor, action: 'key.revoke', target: keyTarget(tenantId, keyId), tenantId, before: publicKey(key), after: revoked });
    return revoked;
  }

  async getQuotas(tenantId: string): Promise<TenantQuotas> {
    await this.getTenant(tenantId);
    return this.store.getQuotas(tenantId);
  }

  async setQuotas(tenantId: string, input: unknown, actor: AuditActor = INTERNAL_ACTOR): Promise<TenantQuotas> {
    const quotas = parseTenantQuotas(input);
    await this.getTenant(tenantId);
    const previous = await this.store.getQuotas(tenantId);
    await this.store.setQuotas(tenantId, quotas);
    await this.bus.publish(invalidateTenant(tenantId));
    await this.audit.record({ actor, action: 'quota.set', target: `${tenantTarget(tenantId)}/quotas`, tenantId, before: previous, after: quotas });
    return quotas;
  }

  usage(tenantIds: readonly string[], from: string, to: string): Promise<UsageRow[]> {
    return readUsage(this.redis, this.keys, tenantIds, from, to);
  }
}

/** Audit targets: `tenant/<id>`, and `tenant/<id>/key/<key id>` for its keys. */
function tenantTarget(tenantId: string): string {
  return `tenant/${tenantId}`;
}

function keyTarget(tenantId: string, keyId: string): string {
  return `tenant/${tenantId}/key/${keyId}`;
}

function objectBody(input: unknown, fields: readonly string[]): Record<string, unknown> {
  if (input === null || typeof input !== 'object' || Array.isArray(input)) throw invalid('body', 'must be a JSON object');
  for (const field of Object.keys(input)) {
    if (!fields.includes(field)) throw invalid(field, `is not a field here (known: ${fields.join(', ')})`);
  }
  return input as Record<string, unknown>;
}

function checkName(value: unknown): string {
  if (typeof value !== 'string' || !NAME.test(value)) throw invalid('name', 'must be 1 to 64 characters: letters, digits, space, _ . - (starting with a letter or digit)');
  return value;
}

function checkStatus(value: unknown): TenantStatus {
  if (value !== 'active' && value !== 'suspended') throw invalid('status', 'must be "active" or "suspended"');
  return value;
}

function checkLabels(value: unknown): Record<string, string> {
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw invalid('labels', 'must be an object of string values');
  const entries = Object.entries(value);
  if (entries.length > 64) throw invalid('labels', 'may hold at most 64 labels');
  for (const [key, label] of entries) {
    if (!LABEL_KEY.test(key)) throw invalid(`labels.${key}`, 'must be a label name of 1 to 63 letters, digits, _ . / -');
    if (typeof label !== 'string' || label.length > 256) throw invalid(`labels.${key}`, 'must be a string of at most 256 characters');
  }
  return value as Record<string, string>;
}

function checkScopes(value: unknown): Scope[] {
  if (!Array.isArray(value) || value.length === 0) throw invalid('scopes', `must be a non-empty list of scopes (${SCOPES.join(', ')})`);
  const scopes = new Set<Scope>();
  value.forEach((scope, index) => {
    if (typeof scope !== 'string' || !(SCOPES as readonly string[]).includes(scope)) throw invalid(`scopes[${index}]`, `must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(scope)}`);
    scopes.add(scope as Scope);
  });
  return [...scopes];
}

function checkExpiry(value: unknown, nowMs: number): string {
  if (typeof value !== 'string' || Number.isNaN(Date.parse(value))) throw invalid('expires_at', 'must be an ISO 8601 time, e.g. 2027-01-31T00:00:00Z');
  const time = Date.parse(value);
  if (time <= nowMs) throw invalid('expires_at', 'must be in the future');
  return new Date(time).toISOString();
}

function invalid(field: string, rule: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', `${field} ${rule}`);
}
