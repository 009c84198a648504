/**
 * The two kinds of audit entries as the API shows them (snake_case), and how each is read
 * back from its Redis stream. Both streams hold flat string fields; nothing in either is
 * a payload, a key or a secret (the writers make sure of it: AuditLog, InferenceAudit).
 */

/** Who made an admin change: the caller's tenant and key id (the bootstrap key is tenant `admin`, key `bootstrap`). */
export interface AuditActor {
  readonly tenant_id: string;
  readonly key_id: string;
}

export interface AdminAuditEntry {
  /** The stream entry id (`<ms>-<seq>`), ordered by time. */
  readonly id: string;
  readonly at: string;
  readonly kind: 'admin';
  readonly actor: AuditActor;
  /** `<resource>.<verb>`, e.g. `tenant.create`, `model.deploy`. */
  readonly action: string;
  /** The resource, e.g. `tenant/t_abc`, `tenant/t_abc/key/K1`, `model/simple`, `job/job_...`. */
  readonly target: string;
  readonly before: unknown;
  readonly after: unknown;
}

export interface InferenceAuditEntry {
  readonly id: string;
  /** When the call ended. */
  readonly at: string;
  readonly kind: 'inference';
  readonly tenant_id: string | null;
  readonly key_id: string | null;
  readonly model: string;
  readonly version: string;
  readonly request_id: string;
  readonly protocol: string;
  readonly rpc: string;
  readonly code: string;
  readonly failed: boolean;
  readonly refused_by: string | null;
  readonly latency_ms: number;
  readonly upstream_ms: number | null;
  readonly instance: string | null;
  readonly bytes_in: number;
  readonly bytes_out: number;
}

export type AuditEntry = AdminAuditEntry | InferenceAuditEntry;
export type AuditKind = AuditEntry['kind'];
export const AUDIT_KINDS: readonly AuditKind[] = ['admin', 'inference'];

/** An entry read back, with what the filters look at besides what the API shows. */
export interface ReadAuditEntry {
  readonly entry: AuditEntry;
  /** Tenants whose `read` keys may see the entry: an inference's tenant; an admin change's actor and target tenant. */
  readonly tenants: readonly string[];
  /** The model the entry concerns, '' for none. */
  readonly model: string;
  /** The admin action, or `inference`. */
  readonly action: string;
}

/** A stream entry's flat `[name, value, name, value, ...]` as a lookup (a missing field reads ''). */
function fieldReader(fields: readonly string[]): (name: string) => string {
  const values = new Map<string, string>();
  for (let index = 0; index + 1 < fields.length; index += 2) values.set(fields[index] as string, fields[index + 1] as string);
  return (name) => values.get(name) ?? '';
}

function parseJson(text: string): unknown {
  if (text === '') return null;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return null;
  }
}

const orNull = (text: string): string | null => (text === '' ? null : text);

/** An entry of the admin stream; entries written before the flat form (one JSON `event` field) read the same. */
export function readAdminEntry(id: string, fields: readonly string[]): ReadAuditEntry {
  const field = fieldReader(fields);
  const legacy = field('event');
  if (legacy !== '') {
    const event = (parseJson(legacy) ?? {}) as { actor?: AuditActor; action?: string; target?: string; before?: unknown; after?: unknown };
    const actor = { tenant_id: String(event.actor?.tenant_id ?? ''), key_id: String(event.actor?.key_id ?? '') };
    const target = String(event.target ?? '');
    const entry: AdminAuditEntry = { id, at: field('at'), kind: 'admin', actor, action: String(event.action ?? ''), target, before: event.before ?? null, after: event.after ?? null };
    return { entry, tenants: [actor.tenant_id], model: target.startsWith('model/') ? target.slice(6) : '', action: entry.action };
  }
  const actor = { tenant_id: field('actor_tenant_id'), key_id: field('actor_key_id') };
  const entry: AdminAuditEntry = {
    id, at: field('at'), kind: 'admin', actor, action: field('action'), target: field('target'),
    before: parseJson(field('before')), after: parseJson(field('after')),
  };
  const owner = field('tenant_id');
  return { entry, tenants: owner === '' || owner === actor.tenant_id ? [actor.tenant_id] : [actor.tenant_id, owner], model: field('model'), action: entry.action };
}

/** An entry of the inference stream (fields written by InferenceAudit). */
export function readInferenceEntry(id: string, fields: readonly string[]): ReadAuditEntry {
  const field = fieldReader(fields);
  const upstream = field('upstream_ms');
  const entry: InferenceAuditEntry = {
    id,
    at: field('at'),
    kind: 'inference',
    tenant_id: orNull(field('tenant_id')),
    key_id: orNull(field('key_id')),
    model: field('model'),
    version: field('version'),
    request_id: field('request_id'),
    protocol: field('protocol'),
    rpc: field('rpc'),
    code: field('code'),
    failed: field('failed') === '1',
    refused_by: orNull(field('refused_by')),
    latency_ms: Number(field('latency_ms')) || 0,
    upstream_ms: upstream === '' ? null : Number(upstream),
    instance: orNull(field('instance')),
    bytes_in: Number(field('bytes_in')) || 0,
    bytes_out: Number(field('bytes_out')) || 0,
  };
  return { entry, tenants: entry.tenant_id === null ? [] : [entry.tenant_id], model: entry.model, action: 'inference' };
}
