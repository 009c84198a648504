import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { pipelinesBySlot, transactionsBySlot } from '../redis/slot-batches';
import type { TenantQuotas } from './quota-config';
import { SCOPES, type ApiKeyRecord, type Scope, type TenantRecord, type TenantStatus } from './tenancy-records';

/**
 * Tenants, API keys and quotas in Redis. Plain reads and writes; the rules (names unique,
 * invalidation, what a caller may see) live in TenancyService. A tenant's own keys share
 * its slot; the indexes (tenant set, names, API keys by id) do not, so under Redis Cluster
 * a change is one MULTI per slot, records written before the indexes that point at them
 * and removed after.
 */
export class TenancyStore {
  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys) {}

  /** Creates a tenant unless the name is taken; returns false when it is. */
  async createTenant(tenant: TenantRecord): Promise<boolean> {
    const claimed = await this.redis.hsetnx(this.keys.tenantNames(), tenant.name, tenant.id);
    if (claimed === 0) return false;
    const transaction = transactionsBySlot(this.redis);
    transaction.on(this.keys.tenant(tenant.id)).hset(this.keys.tenant(tenant.id), tenantFields(tenant));
    transaction.on(this.keys.tenants()).sadd(this.keys.tenants(), tenant.id);
    await transaction.exec();
    return true;
  }

  async getTenant(id: string): Promise<TenantRecord | null> {
    return tenantFrom(await this.redis.hgetall(this.keys.tenant(id)));
  }

  async listTenants(): Promise<TenantRecord[]> {
    const ids = (await this.redis.smembers(this.keys.tenants())).sort();
    if (ids.length === 0) return [];
    const pipeline = pipelinesBySlot(this.redis);
    for (const id of ids) pipeline.on(this.keys.tenant(id)).hgetall(this.keys.tenant(id));
    return (await pipeline.exec()).map(([error, value]) => {
      if (error !== null) throw error;
      return tenantFrom(value as Record<string, string>);
    }).filter((tenant): tenant is TenantRecord => tenant !== null);
  }

  /** Renames are refused (returns false) when the new name is taken. */
  async updateTenant(previous: TenantRecord, next: TenantRecord): Promise<boolean> {
    if (previous.name !== next.name) {
      const claimed = await this.redis.hsetnx(this.keys.tenantNames(), next.name, next.id);
      if (claimed === 0) return false;
      await this.redis.hdel(this.keys.tenantNames(), previous.name);
    }
    await this.redis.hset(this.keys.tenant(next.id), tenantFields(next));
    return true;
  }

  /** Deletes the tenant, its keys and its quotas. Usage history stays until it expires. */
  async deleteTenant(tenant: TenantRecord): Promise<void> {
    const keyIds = await this.redis.smembers(this.keys.tenantKeys(tenant.id));
    const transaction = transactionsBySlot(this.redis);
    transaction.on(this.keys.tenants()).srem(this.keys.tenants(), tenant.id);
    transaction.on(this.keys.tenantNames()).hdel(this.keys.tenantNames(), tenant.name);
    for (const keyId of keyIds) transaction.on(this.keys.apiKey(keyId)).del(this.keys.apiKey(keyId));
    transaction.on(this.keys.tenant(tenant.id)).del(this.keys.tenant(tenant.id), this.keys.tenantKeys(tenant.id), this.keys.quotas(tenant.id));
    await transaction.exec();
  }

  async createKey(record: ApiKeyRecord): Promise<void> {
    const transaction = transactionsBySlot(this.redis);
    transaction.on(this.keys.apiKey(record.key_id)).hset(this.keys.apiKey(record.key_id), keyFields(record));
    transaction.on(this.keys.tenantKeys(record.tenant_id)).sadd(this.keys.tenantKeys(record.tenant_id), record.key_id);
    await transaction.exec();
  }

  async getKey(keyId: string): Promise<ApiKeyRecord | null> {
    return keyFrom(await this.redis.hgetall(this.keys.apiKey(keyId)));
  }

  async listKeys(tenantId: string): Promise<ApiKeyRecord[]> {
    const keyIds = (await this.redis.smembers(this.keys.tenantKeys(tenantId))).sort();
    if (keyIds.length === 0) return [];
    const pipeline = pipelinesBySlot(this.redis);
    for (const keyId of keyIds) pipeline.on(this.keys.apiKey(keyId)).hgetall(this.keys.apiKey(keyId));
    return (await pipeline.exec()).map(([error, value]) => {
      if (error !== null) throw error;
      return keyFrom(value as Record<string, string>);
    }).filter((key): key is ApiKeyRecord => key !== null);
  }

  async revokeKey(keyId: string, revokedAt: string): Promise<void> {
    await this.redis.hset(this.keys.apiKey(keyId), 'revoked_at', revokedAt);
  }

  async getQuotas(tenantId: string): Promise<TenantQuotas> {
    const text = await this.redis.get(this.keys.quotas(tenantId));
    return text === null ? {} : (JSON.parse(text) as TenantQuotas);
  }

  async setQuotas(tenantId: string, quotas: TenantQuotas): Promise<void> {
    await this.redis.set(this.keys.quotas(tenantId), JSON.stringify(quotas));
  }

  /** Key, tenant and quotas of a presented key id, in one round trip. */
  async loadPrincipalParts(keyId: string): Promise<{ key: ApiKeyRecord | null; tenant: TenantRecord | null; quotas: TenantQuotas }> {
    const key = await this.getKey(keyId);
    if (key === null) return { key: null, tenant: null, quotas: {} };
    const [tenantResult, quotasResult] = (await this.redis.pipeline()
      .hgetall(this.keys.tenant(key.tenant_id))
      .get(this.keys.quotas(key.tenant_id))
      .exec()) ?? [];
    const quotasText = quotasResult?.[1] as string | null | undefined;
    return {
      key,
      tenant: tenantFrom(tenantResult?.[1] as Record<string, string> | undefined),
      quotas: quotasText === null || quotasText === undefined ? {} : (JSON.parse(quotasText) as TenantQuotas),
    };
  }
}

function tenantFields(tenant: TenantRecord): Record<string, string> {
  return {
    id: tenant.id,
    name: tenant.name,
    status: tenant.status,
    labels: JSON.stringify(tenant.labels),
    created_at: tenant.created_at,
    updated_at: tenant.updated_at,
  };
}

function tenantFrom(fields: Record<string, string> | undefined): TenantRecord | null {
  if (fields === undefined || fields['id'] === undefined) return null;
  return {
    id: fields['id'],
    name: fields['name'] ?? '',
    status: (fields['status'] === 'suspended' ? 'suspended' : 'active') satisfies TenantStatus,
    labels: JSON.parse(fields['labels'] ?? '{}') as Record<string, string>,
    created_at: fields['created_at'] ?? '',
    updated_at: fields['updated_at'] ?? '',
  };
}

function keyFields(record: ApiKeyRecord): Record<string, string> {
  return {
    key_id: record.key_id,
    tenant_id: record.tenant_id,
    scopes: record.scopes.join(','),
    created_at: record.created_at,
    expires_at: record.expires_at ?? '',
    revoked_at: record.revoked_at ?? '',
    secret_sha256: record.secret_sha256,
  };
}

function keyFrom(fields: Record<string, string> | undefined): ApiKeyRecord | null {
  if (fields === undefined || fields['key_id'] === undefined) return null;
  return {
    key_id: fields['key_id'],
    tenant_id: fields['tenant_id'] ?? '',
    scopes: (fields['scopes'] ?? '').split(',').filter((scope): scope is Scope => (SCOPES as readonly string[]).includes(scope)),
    created_at: fields['created_at'] ?? '',
    expires_at: fields['expires_at'] === '' || fields['expires_at'] === undefined ? null : fields['expires_at'],
    revoked_at: fields['revoked_at'] === '' || fields['revoked_at'] === undefined ? null : fields['revoked_at'],
    secret_sha256: fields['secret_sha256'] ?? '',
  };
}
