import type { Request, RequestHandler, Response } from 'express';
import type { AuditActor } from '../observability/audit-entries';
import { principalOf } from '../proxy/rest/rest-authentication';
import type { TenancyService } from '../tenancy/tenancy-service';
import { isAdministrator, visibleTenantId } from './tenant-visibility';

export interface TenantHandlers {
  readonly createTenant: RequestHandler;
  readonly listTenants: RequestHandler;
  readonly getTenant: RequestHandler;
  readonly updateTenant: RequestHandler;
  readonly deleteTenant: RequestHandler;
  readonly createKey: RequestHandler;
  readonly listKeys: RequestHandler;
  readonly revokeKey: RequestHandler;
  readonly getQuotas: RequestHandler;
  readonly setQuotas: RequestHandler;
}

/**
 * Tenants, keys and quotas over HTTP. Every rule (validation, uniqueness, invalidation)
 * is TenancyService's; these handlers only pick what a caller may see and answer the
 * resulting resource. Reads go through visibleTenantId; writes are mounted behind the
 * admin scope. A key's secret appears in exactly one answer: the 201 of its creation.
 * Every write names its caller, the actor of the audit entry the service records.
 */
export function tenantHandlers(service: TenancyService): TenantHandlers {
  return {
    async createTenant(request, response) {
      const tenant = await service.createTenant(request.body, actorOf(response));
      response.status(201).location(`/v1/tenants/${encodeURIComponent(tenant.id)}`).json(tenant);
    },
    async listTenants(_request, response) {
      const principal = principalOf(response);
      const tenants = await service.listTenants();
      response.json({ tenants: isAdministrator(principal) ? tenants : tenants.filter((tenant) => tenant.id === principal.tenantId) });
    },
    async getTenant(request, response) {
      response.json(await service.getTenant(readableTenant(request, response)));
    },
    async updateTenant(request, response) {
      response.json(await service.updateTenant(tenantParam(request), request.body, actorOf(response)));
    },
    async deleteTenant(request, response) {
      const id = tenantParam(request);
      const tenant = await service.getTenant(id);
      await service.deleteTenant(id, actorOf(response));
      response.json(tenant);
    },
    async createKey(request, response) {
      const id = tenantParam(request);
      const created = await service.createKey(id, request.body, actorOf(response));
      response.status(201).location(`/v1/tenants/${encodeURIComponent(id)}/keys`).json({ key: created.key, ...created.record });
    },
    async listKeys(request, response) {
      response.json({ keys: await service.listKeys(readableTenant(request, response)) });
    },
    async revokeKey(request, response) {
      response.json(await service.revokeKey(tenantParam(request), pathParam(request, 'key_id'), actorOf(response)));
    },
    async getQuotas(request, response) {
      response.json(await service.getQuotas(readableTenant(request, response)));
    },
    async setQuotas(request, response) {
      response.json(await service.setQuotas(tenantParam(request), request.body, actorOf(response)));
    },
  };
}

function tenantParam(request: Request): string {
  return pathParam(request, 'id');
}

/** A named segment of the route (`:id`, `:key_id`): always one string. */
function pathParam(request: Request, name: string): string {
  const value: unknown = request.params[name];
  return typeof value === 'string' ? value : '';
}

/** The caller of an authenticated route, as the audit names it. */
function actorOf(response: Response): AuditActor {
  const principal = principalOf(response);
  return { tenant_id: principal.tenantId, key_id: principal.keyId };
}

function readableTenant(request: Request, response: Response): string {
  return visibleTenantId(principalOf(response), tenantParam(request));
}
