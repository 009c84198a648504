import { randomBytes } from 'node:crypto';
import type { TenancyService } from '../../src/tenancy/tenancy-service';

/** A tenant made for one test, with one API key. */
export interface TestTenant {
  readonly id: string;
  /** The secret key (trg_<key id>_<secret>). */
  readonly key: string;
  readonly keyId: string;
}

export interface TestTenantOptions {
  /** Default: {} (no limits). */
  readonly quotas?: unknown;
  /** Default: ['infer']. */
  readonly scopes?: readonly string[];
  readonly expiresAt?: string;
}

/** Creates a tenant with a unique name, its quotas and one key, through TenancyService (not the admin API). */
export async function createTestTenant(service: TenancyService, options: TestTenantOptions = {}): Promise<TestTenant> {
  const tenant = await service.createTenant({ name: `tenant-${randomBytes(5).toString('hex')}` });
  if (options.quotas !== undefined) await service.setQuotas(tenant.id, options.quotas);
  const created = await service.createKey(tenant.id, {
    scopes: options.scopes ?? ['infer'],
    ...(options.expiresAt === undefined ? {} : { expires_at: options.expiresAt }),
  });
  return { id: tenant.id, key: created.key, keyId: created.record.key_id };
}
