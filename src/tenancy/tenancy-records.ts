import type { TenantQuotas } from './quota-config';

export const SCOPES = ['infer', 'jobs', 'read', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export type TenantStatus = 'active' | 'suspended';

export interface TenantRecord {
  readonly id: string;
  readonly name: string;
  readonly status: TenantStatus;
  readonly labels: Readonly<Record<string, string>>;
  readonly created_at: string;
  readonly updated_at: string;
}

export interface ApiKeyRecord {
  readonly key_id: string;
  readonly tenant_id: string;
  readonly scopes: readonly Scope[];
  readonly created_at: string;
  /** ISO time after which the key is refused; null: never. */
  readonly expires_at: string | null;
  readonly revoked_at: string | null;
  /** SHA-256 of the secret, hex. Never leaves the server. */
  readonly secret_sha256: string;
}

/** What a valid key grants: who calls, with which scopes and quotas. */
export interface Principal {
  readonly tenantId: string;
  readonly keyId: string;
  readonly scopes: ReadonlySet<Scope>;
  readonly quotas: TenantQuotas;
  /** True for the bootstrap admin key (TRIAGE_ADMIN_KEY): every scope, no quotas. */
  readonly bootstrap: boolean;
}

/** The tenant the bootstrap admin key acts as. */
export const ADMIN_TENANT_ID = 'admin';

/** A key record as the API shows it: everything but the secret's hash. */
export function publicKey(record: ApiKeyRecord): Omit<ApiKeyRecord, 'secret_sha256'> {
  const { secret_sha256: _hidden, ...visible } = record;
  return visible;
}
