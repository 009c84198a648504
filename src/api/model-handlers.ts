import type { Request, RequestHandler, Response } from 'express';
import { TriageError } from '../errors/triage-error';
import { pathParam, queryParam } from './request-params';
import { principalOf } from '../proxy/rest/rest-authentication';
import { archiveFormatOf } from '../repository/archive/extract-archive';
import type { ModelRecord, PlacementRecord } from '../registry/model-record';
import type { RegistryService } from '../registry/registry-service';
import type { RegistryStore } from '../registry/registry-store';
import { loadSignature } from '../controller/load-signature';
import { servedVersions } from '../controller/served-versions';
import { modelAllowed } from '../tenancy/quota-config';
import type { Principal } from '../tenancy/tenancy-records';
import type { TenancyService } from '../tenancy/tenancy-service';
import { isAdministrator } from './tenant-visibility';

export interface ModelHandlers {
  readonly listModels: RequestHandler;
  readonly getModel: RequestHandler;
  readonly listVersions: RequestHandler;
  readonly createModel: RequestHandler;
  readonly addVersion: RequestHandler;
  readonly deleteVersion: RequestHandler;
  readonly putConfig: RequestHandler;
  readonly deleteModel: RequestHandler;
  readonly deploy: RequestHandler;
  readonly undeploy: RequestHandler;
}

/**
 * The model registry over HTTP. Writes are mounted behind the admin scope; reads are open
 * to `read` keys, which see only the models their tenant may use, without the owner or
 * the list of tenants (a tenant never learns about another). Archive uploads are the raw
 * request body, streamed into the registry, never buffered whole.
 */
export function modelHandlers(registry: RegistryService, store: RegistryStore, tenancy: Pick<TenancyService, 'listTenants' | 'getQuotas'>): ModelHandlers {
  const view = async (record: ModelRecord, principal: Principal): Promise<Record<string, unknown>> => {
    const [placement, unplaced, measured] = await Promise.all([store.placement(record.name), store.unplacedReason(record.name), store.measuredFootprint(record.name)]);
    // A measurement of another configuration or version set does not describe this one.
    const measuredFootprintBytes = measured !== null && measured.digest === loadSignature(record, servedVersions(record)) ? measured.bytes : null;
    if (!isAdministrator(principal)) {
      const { owner: _owner, ...visible } = record;
      return { ...visible, state: placement.map(placementView), unplaced, measured_footprint_bytes: measuredFootprintBytes };
    }
    return { ...record, state: placement.map(placementView), unplaced, measured_footprint_bytes: measuredFootprintBytes, tenants: await tenantsAllowed(tenancy, record.name) };
  };
  const visibleModel = async (request: Request, response: Response): Promise<ModelRecord> => {
    const principal = principalOf(response);
    const name = pathParam(request, 'name');
    if (!isAdministrator(principal) && !modelAllowed(principal.quotas, name)) throw new TriageError('NOT_FOUND', `no model '${name}' in the registry`);
    return registry.get(name);
  };
  return {
    async listModels(_request, response) {
      const principal = principalOf(response);
      const records = (await registry.list()).filter((record) => isAdministrator(principal) || modelAllowed(principal.quotas, record.name));
      response.json({ models: await Promise.all(records.map((record) => view(record, principal))) });
    },
    async getModel(request, response) {
      response.json(await view(await visibleModel(request, response), principalOf(response)));
    },
    async listVersions(request, response) {
      response.json({ versions: (await visibleModel(request, response)).versions });
    },
    async createModel(request, response) {
      const record = await closeUnlessRead(request, response, () => registry.create(request, archiveFormatOf(request.headers['content-type']), actorOf(response), queryParam(request, 'name')));
      response.status(201).location(`/v1/models/${encodeURIComponent(record.name)}`).json(await view(record, principalOf(response)));
    },
    async addVersion(request, response) {
      const record = await closeUnlessRead(request, response, () => registry.addVersion(pathParam(request, 'name'), request, archiveFormatOf(request.headers['content-type']), actorOf(response), queryParam(request, 'version')));
      response.status(201).json(await view(record, principalOf(response)));
    },
    async deleteVersion(request, response) {
      response.json(await view(await registry.deleteVersion(pathParam(request, 'name'), pathParam(request, 'version'), actorOf(response)), principalOf(response)));
    },
    async putConfig(request, response) {
      response.json(await view(await registry.putConfig(pathParam(request, 'name'), request.body, actorOf(response)), principalOf(response)));
    },
    async deleteModel(request, response) {
      const record = await registry.delete(pathParam(request, 'name'), actorOf(response));
      response.json({ ...record, state: [], unplaced: null, measured_footprint_bytes: null });
    },
    async deploy(request, response) {
      response.status(202).json(await view(await registry.deploy(pathParam(request, 'name'), request.body, actorOf(response)), principalOf(response)));
    },
    async undeploy(request, response) {
      response.status(202).json(await view(await registry.undeploy(pathParam(request, 'name'), actorOf(response)), principalOf(response)));
    },
  };
}

/**
 * Runs an upload; when it is refused before the whole body was read (a bomb, a hostile
 * entry), the answer closes the connection, so the rest of the body is never read.
 */
async function closeUnlessRead<T>(request: Request, response: Response, upload: () => Promise<T>): Promise<T> {
  try {
    return await upload();
  } catch (error) {
    if (!request.complete) response.setHeader('connection', 'close');
    throw error;
  }
}

function placementView(record: PlacementRecord): Record<string, unknown> {
  return { instance: record.instance, state: record.state, reason: record.reason, versions: record.versions, updated_at: record.updated_at };
}

/** Ids of the tenants whose quotas allow the model (allowed_models unset: every model). */
async function tenantsAllowed(tenancy: Pick<TenancyService, 'listTenants' | 'getQuotas'>, model: string): Promise<string[]> {
  const tenants = await tenancy.listTenants();
  const allowed = await Promise.all(tenants.map(async (tenant) => modelAllowed(await tenancy.getQuotas(tenant.id), model) ? tenant.id : null));
  return allowed.filter((id): id is string => id !== null);
}

function actorOf(response: Response): { tenant_id: string; key_id: string } {
  const principal = principalOf(response);
  return { tenant_id: principal.tenantId, key_id: principal.keyId };
}
