import { TriageError } from '../errors/triage-error';
import type { Principal } from '../tenancy/tenancy-records';

/** The admin scope is the platform's: a key holding it manages every tenant. */
export function isAdministrator(principal: Principal): boolean {
  return principal.scopes.has('admin');
}

/**
 * The tenant id a caller may read: any for an administrator; for a tenant's key, only its
 * own. Another tenant is NOT_FOUND with the very message an unknown id gets, so a key
 * cannot tell whether another tenant exists.
 */
export function visibleTenantId(principal: Principal, tenantId: string): string {
  if (!isAdministrator(principal) && tenantId !== principal.tenantId) throw unknownTenant(tenantId);
  return tenantId;
}

/** Same text as TenancyService.getTenant for an unknown id. */
export function unknownTenant(tenantId: string): TriageError {
  return new TriageError('NOT_FOUND', `no tenant '${tenantId}'`);
}
