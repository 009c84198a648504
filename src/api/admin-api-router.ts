import { Router as ExpressRouter, type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import type { Logger } from '../observability/logger';
import { restAuthentication } from '../proxy/rest/rest-authentication';
import { sendRestError } from '../proxy/rest/rest-error';
import type { Tenancy } from '../tenancy/tenancy';
import { ADMIN_BODY_LIMIT_BYTES, isBodyTooLarge, jsonBody } from './json-body';
import { openApiDocument } from './openapi-document';
import type { RegistryService } from '../registry/registry-service';
import type { RegistryStore } from '../registry/registry-store';
import { modelHandlers } from './model-handlers';
import { jobHandlers } from './job-handlers';
import type { Jobs } from '../jobs/jobs';
import { tenantHandlers } from './tenant-handlers';
import { usageHandler } from './usage-handler';
import { auditHandler } from './audit-handlers';
import { observabilityHandlers, type ObservabilityHandlerDependencies } from './observability-handlers';

export interface AdminApiDependencies {
  readonly tenancy: Pick<Tenancy, 'authenticator' | 'service' | 'auditReader'>;
  readonly registry: { readonly service: RegistryService; readonly store: RegistryStore };
  readonly jobs: Jobs;
  /** The dashboard's reads: traffic series, instances and their hardware figures. */
  readonly observability: ObservabilityHandlerDependencies;
  readonly version: string;
  readonly logger: Logger;
}

type Method = 'get' | 'post' | 'put' | 'patch' | 'delete';

/** Who may call a route: anyone; any valid key; a key with `read` (its own tenant) or `admin`; with `jobs` (its own tenant's jobs) or `admin`; with `jobs`, `read` or `admin` (job records, no rows); with `admin`. */
type Access = 'public' | 'key' | 'read' | 'jobs' | 'job-read' | 'admin';

interface AdminRoute {
  readonly method: Method;
  readonly path: string;
  readonly access: Access;
  /** The route reads a JSON body (after the key is checked); 'stream': the handler reads the raw body itself (archives, job rows). */
  readonly body: boolean | 'stream';
  readonly handler: RequestHandler;
}

/**
 * The admin API under /v1 (snake_case JSON): tenants, their API keys and quotas, usage
 * and its billing CSV, the audit log, the model registry, batch jobs, and the OpenAPI document describing
 * all of it. Errors answer `{"error": message}` like the rest of the HTTP port, with the
 * status of the error's code. The key is checked before a body is read; JSON bodies are
 * capped at 1 MiB (streamed bodies by their handler).
 */
export function adminApiRouter(dependencies: AdminApiDependencies): ExpressRouter {
  const logger = dependencies.logger.child({ component: 'admin-api' });
  const { service, authenticator } = dependencies.tenancy;
  const tenants = tenantHandlers(service);
  const models = modelHandlers(dependencies.registry.service, dependencies.registry.store, service);
  const jobs = jobHandlers(dependencies.jobs, logger);
  const observability = observabilityHandlers(dependencies.observability);
  const document = openApiDocument(dependencies.version);
  const routes: readonly AdminRoute[] = [
    { method: 'get', path: '/v1/openapi.json', access: 'public', body: false, handler: (_request, response) => { response.json(document); } },
    { method: 'get', path: '/v1/whoami', access: 'key', body: false, handler: observability.whoami },
    { method: 'get', path: '/v1/overview', access: 'read', body: false, handler: observability.overview },
    { method: 'get', path: '/v1/instances', access: 'read', body: false, handler: observability.instances },
    { method: 'get', path: '/v1/tenants', access: 'read', body: false, handler: tenants.listTenants },
    { method: 'post', path: '/v1/tenants', access: 'admin', body: true, handler: tenants.createTenant },
    { method: 'get', path: '/v1/tenants/:id', access: 'read', body: false, handler: tenants.getTenant },
    { method: 'patch', path: '/v1/tenants/:id', access: 'admin', body: true, handler: tenants.updateTenant },
    { method: 'delete', path: '/v1/tenants/:id', access: 'admin', body: false, handler: tenants.deleteTenant },
    { method: 'get', path: '/v1/tenants/:id/keys', access: 'read', body: false, handler: tenants.listKeys },
    { method: 'post', path: '/v1/tenants/:id/keys', access: 'admin', body: true, handler: tenants.createKey },
    { method: 'delete', path: '/v1/tenants/:id/keys/:key_id', access: 'admin', body: false, handler: tenants.revokeKey },
    { method: 'get', path: '/v1/tenants/:id/quotas', access: 'read', body: false, handler: tenants.getQuotas },
    { method: 'put', path: '/v1/tenants/:id/quotas', access: 'admin', body: true, handler: tenants.setQuotas },
    { method: 'get', path: '/v1/usage', access: 'read', body: false, handler: usageHandler(service) },
    { method: 'get', path: '/v1/audit', access: 'read', body: false, handler: auditHandler(dependencies.tenancy.auditReader) },
    { method: 'get', path: '/v1/models', access: 'read', body: false, handler: models.listModels },
    { method: 'post', path: '/v1/models', access: 'admin', body: 'stream', handler: models.createModel },
    { method: 'get', path: '/v1/models/:name', access: 'read', body: false, handler: models.getModel },
    { method: 'delete', path: '/v1/models/:name', access: 'admin', body: false, handler: models.deleteModel },
    { method: 'get', path: '/v1/models/:name/versions', access: 'read', body: false, handler: models.listVersions },
    { method: 'post', path: '/v1/models/:name/versions', access: 'admin', body: 'stream', handler: models.addVersion },
    { method: 'delete', path: '/v1/models/:name/versions/:version', access: 'admin', body: false, handler: models.deleteVersion },
    { method: 'put', path: '/v1/models/:name/config', access: 'admin', body: true, handler: models.putConfig },
    { method: 'post', path: '/v1/models/:name/deploy', access: 'admin', body: true, handler: models.deploy },
    { method: 'post', path: '/v1/models/:name/undeploy', access: 'admin', body: false, handler: models.undeploy },
    { method: 'post', path: '/v1/jobs', access: 'jobs', body: 'stream', handler: jobs.createJob },
    // A job's record holds counts and timestamps, never rows: `read` keys see them too (the dashboard); results and errors hold data and stay `jobs`/`admin`.
    { method: 'get', path: '/v1/jobs', access: 'job-read', body: false, handler: jobs.listJobs },
    { method: 'get', path: '/v1/jobs/:id', access: 'job-read', body: false, handler: jobs.getJob },
    { method: 'get', path: '/v1/jobs/:id/results', access: 'jobs', body: false, handler: jobs.results },
    { method: 'get', path: '/v1/jobs/:id/errors', access: 'jobs', body: false, handler: jobs.errors },
    { method: 'post', path: '/v1/jobs/:id/cancel', access: 'jobs', body: false, handler: jobs.cancelJob },
  ];
  const guards: Readonly<Record<Access, RequestHandler[]>> = {
    public: [],
    key: [restAuthentication(authenticator, ['read', 'admin', 'infer', 'jobs'], logger)],
    // `read` first: a key holding neither is told it lacks `read`, the scope it most likely wants.
    read: [restAuthentication(authenticator, ['read', 'admin'], logger)],
    jobs: [restAuthentication(authenticator, ['jobs', 'admin'], logger)],
    'job-read': [restAuthentication(authenticator, ['jobs', 'read', 'admin'], logger)],
    admin: [restAuthentication(authenticator, ['admin'], logger)],
  };
  const body = jsonBody();
  const router = ExpressRouter();
  router.use('/v1', (_request, response, next) => {
    // Admin answers (a key's secret above all) must never sit in a cache.
    response.setHeader('cache-control', 'no-store');
    next();
  });
  for (const path of new Set(routes.map((route) => route.path))) {
    const methods = routes.filter((route) => route.path === path);
    const route = router.route(path);
    for (const { method, access, body: readsBody, handler } of methods) route[method](...guards[access], ...(readsBody === true ? body : []), handler);
    route.all(methodNotAllowed(methods.map((each) => each.method.toUpperCase()).join(', ')));
  }
  router.use('/v1', (request, response) => {
    response.status(404).json({ error: `no route ${request.method} ${request.baseUrl}${request.path}: see GET /v1/openapi.json` });
  });
  router.use('/v1', (error: unknown, request: Request, response: Response, _next: NextFunction) => {
    if (isBodyTooLarge(error)) {
      if (!response.headersSent) response.status(413).json({ error: `body is larger than the admin API's limit of ${ADMIN_BODY_LIMIT_BYTES} bytes` });
      return;
    }
    sendRestError(response, error, logger, `${request.method} ${request.route === undefined ? request.path : String((request.route as { path: unknown }).path)}`);
  });
  return router;
}

function methodNotAllowed(allowed: string): RequestHandler {
  return (request, response) => {
    response.setHeader('allow', allowed);
    response.status(405).json({ error: `${request.method} is not allowed here; allowed: ${allowed}` });
  };
}
