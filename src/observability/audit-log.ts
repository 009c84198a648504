import type { Redis } from 'ioredis';

/** One audited change: who did what to which resource, with the resource before and after. */
export interface AuditEvent {
  readonly actor: { readonly tenant_id: string; readonly key_id: string };
  /** `<resource>.<verb>`, e.g. `model.create`, `model.deploy`. */
  readonly action: string;
  /** The resource, e.g. `model/simple`. */
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface AuditEntry extends AuditEvent {
  /** The stream entry id (milliseconds-sequence), ordered by time. */
  readonly id: string;
  readonly at: string;
}

/**
 * The audit trail: a Redis stream capped near `maxEntries` (XADD MAXLEN ~). Events hold
 * metadata only: callers pass records and summaries, never a payload or a secret.
 */
export class AuditLog {
  constructor(private readonly redis: Redis, private readonly streamKey: string, private readonly maxEntries: number) {}

  async record(event: AuditEvent): Promise<void> {
    await this.redis.xadd(this.streamKey, 'MAXLEN', '~', this.maxEntries, '*',
      'at', new Date().toISOString(), 'event', JSON.stringify(event));
  }

  /** The newest `count` entries, newest first, optionally only those whose target is `target`. */
  async recent(count: number, target?: string): Promise<AuditEntry[]> {
    const entries = await this.redis.xrevrange(this.streamKey, '+', '-', 'COUNT', target === undefined ? count : count * 20);
    const parsed = entries.map(([id, fields]) => {
      const value = (name: string): string => fields[fields.indexOf(name) + 1] ?? '';
      return { id, at: value('at'), ...JSON.parse(value('event')) as AuditEvent };
    });
    return (target === undefined ? parsed : parsed.filter((entry) => entry.target === target)).slice(0, count);
  }
}
