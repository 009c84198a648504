import type { RedisClient } from '../redis/redis-client';
import { readAdminEntry, type AdminAuditEntry, type AuditActor } from './audit-entries';

/** One audited admin change: who did what to which resource, with the resource before and after. */
export interface AuditEvent {
  readonly actor: AuditActor;
  /** `<resource>.<verb>`, e.g. `tenant.create`, `key.revoke`, `model.deploy`. */
  readonly action: string;
  /** The resource, e.g. `tenant/t_abc`, `model/simple`. */
  readonly target: string;
  /** The tenant the target belongs to (a tenant, its keys, quotas or jobs): that tenant's `read` keys see the entry. */
  readonly tenantId?: string;
  /** The model the change concerns; by default the name in a `model/<name>` target. */
  readonly model?: string;
  /** Records and summaries only: never a payload, a key's secret or its hash. */
  readonly before: unknown;
  readonly after: unknown;
}

/** Kept for the callers that read recent entries (tests of the registry). */
export type AuditEntry = AdminAuditEntry;

/** Default of --audit-max-entries, also used by processes that start tenancy without the setting (tools, tests). */
export const DEFAULT_AUDIT_MAX_ENTRIES = 1_000_000;

/** The actor of changes made through the services directly, without an API caller (tools, tests, start-up). */
export const INTERNAL_ACTOR: AuditActor = { tenant_id: 'admin', key_id: 'internal' };

/**
 * The admin audit trail: a Redis stream capped near `maxEntries` (XADD MAXLEN ~), one entry
 * per change with flat fields (`kind`, `at`, `action`, `target`, `actor_tenant_id`,
 * `actor_key_id`, `tenant_id`, `model`, and `before`/`after` as JSON). Inference metadata
 * has its own stream (InferenceAudit); AuditReader reads both.
 */
export class AuditLog {
  constructor(private readonly redis: RedisClient, private readonly streamKey: string, private readonly maxEntries: number) {}

  async record(event: AuditEvent): Promise<void> {
    const model = event.model ?? (event.target.startsWith('model/') ? event.target.slice('model/'.length) : '');
    await this.redis.xadd(this.streamKey, 'MAXLEN', '~', this.maxEntries, '*',
      'kind', 'admin',
      'at', new Date().toISOString(),
      'action', event.action,
      'target', event.target,
      'actor_tenant_id', event.actor.tenant_id,
      'actor_key_id', event.actor.key_id,
      'tenant_id', event.tenantId ?? '',
      'model', model,
      'before', JSON.stringify(event.before ?? null),
      'after', JSON.stringify(event.after ?? null));
  }

  /** The newest `count` entries, newest first, optionally only those whose target is `target`. */
  async recent(count: number, target?: string): Promise<AuditEntry[]> {
    const entries = await this.redis.xrevrange(this.streamKey, '+', '-', 'COUNT', target === undefined ? count : count * 20);
    const parsed = entries.map(([id, fields]) => readAdminEntry(id, fields).entry as AdminAuditEntry);
    return (target === undefined ? parsed : parsed.filter((entry) => entry.target === target)).slice(0, count);
  }
}
