/**
 * Every key triage writes, under one prefix. Keys of one tenant share the hash tag
 * {t:<id>}, so one Lua script touches one slot under Redis Cluster.
 */
export class RedisKeys {
  constructor(readonly prefix: string) {}

  /** Set of every tenant id. */
  tenants(): string { return `${this.prefix}tenants`; }
  /** Hash: tenant name -> id (names are unique). */
  tenantNames(): string { return `${this.prefix}tenant-names`; }
  tenant(tenantId: string): string { return `${this.tenantScope(tenantId)}:tenant`; }
  tenantKeys(tenantId: string): string { return `${this.tenantScope(tenantId)}:keys`; }
  quotas(tenantId: string): string { return `${this.tenantScope(tenantId)}:quotas`; }
  /** Hash of one API key, found by its public key id. */
  apiKey(keyId: string): string { return `${this.prefix}key:${keyId}`; }
  usage(tenantId: string, day: string): string { return `${this.tenantScope(tenantId)}:usage:${day}`; }
  /** Pub/sub channel telling every process to drop cached keys, tenants and quotas. */
  invalidation(): string { return `${this.prefix}invalidate`; }
  /** Counter numbering the invalidation messages (see InvalidationBus). */
  invalidationVersion(): string { return `${this.prefix}invalidate-version`; }
  /** The prefix of every admission key of a tenant (and model, for model overrides). */
  admission(tenantId: string, model: string | null): string {
    return model === null ? `${this.tenantScope(tenantId)}:q` : `${this.tenantScope(tenantId)}:q:m:${model}`;
  }

  /** Stream of audit events (admin changes, inference metadata). */
  audit(): string { return `${this.prefix}audit`; }
  /** Hash: model name -> its registry record (JSON). Registry keys share the tag {registry}. */
  registryModels(): string { return `${this.prefix}{registry}:models`; }
  /** Hash: instance address -> observed state of one model there (JSON), written by the controller. */
  registryPlacement(model: string): string { return `${this.prefix}{registry}:placement:${model}`; }
  /** The controller's leader lease (SET NX PX). */
  controllerLease(): string { return `${this.prefix}{registry}:controller-lease`; }
  /** Pub/sub channel: a model's desired state changed (payload: the model name). */
  registryChanges(): string { return `${this.prefix}registry-changes`; }

  private tenantScope(tenantId: string): string {
    return `${this.prefix}{t:${tenantId}}`;
  }
}
