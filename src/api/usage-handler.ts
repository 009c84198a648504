import type { RequestHandler } from 'express';
import { principalOf } from '../proxy/rest/rest-authentication';
import { ADMIN_TENANT_ID, type Principal } from '../tenancy/tenancy-records';
import type { TenancyService } from '../tenancy/tenancy-service';
import { isAdministrator, unknownTenant } from './tenant-visibility';
import { usageCsv } from './usage-csv';
import { parseUsageQuery, type UsageQuery } from './usage-query';

/**
 * GET /v1/usage: usage per tenant, model and day as JSON, or as the billing CSV
 * (`format=csv`, or `Accept: text/csv` without `format`). An administrator sees every
 * tenant (the bootstrap key's own traffic as tenant `admin`) or the one asked; a tenant's
 * key sees only its own, and asking for another tenant is NOT_FOUND.
 */
export function usageHandler(service: TenancyService, nowMs: () => number = Date.now): RequestHandler {
  return async (request, response) => {
    const query = parseUsageQuery(new URL(request.originalUrl, 'http://localhost').searchParams, nowMs());
    const tenantIds = await tenantsOf(service, principalOf(response), query);
    const rows = (await service.usage(tenantIds, query.from, query.to)).filter((row) => query.model === null || row.model === query.model);
    const format = query.format ?? (request.accepts(['application/json', 'text/csv']) === 'text/csv' ? 'csv' : 'json');
    if (format === 'csv') {
      response.type('text/csv; charset=utf-8')
        .attachment(`triage-usage-${query.from}-${query.to}.csv`)
        .send(usageCsv(rows));
      return;
    }
    response.json({ from: query.from, to: query.to, tenant: query.tenant, model: query.model, rows });
  };
}

async function tenantsOf(service: TenancyService, principal: Principal, query: UsageQuery): Promise<string[]> {
  if (!isAdministrator(principal)) {
    if (query.tenant !== null && query.tenant !== principal.tenantId) throw unknownTenant(query.tenant);
    return [principal.tenantId];
  }
  if (query.tenant === ADMIN_TENANT_ID) return [ADMIN_TENANT_ID];
  if (query.tenant !== null) return [(await service.getTenant(query.tenant)).id];
  return [ADMIN_TENANT_ID, ...(await service.listTenants()).map((tenant) => tenant.id)];
}
