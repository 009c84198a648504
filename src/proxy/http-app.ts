import express, { type Express } from 'express';
import type { InferenceObserver } from '../observability/inference-observer';
import type { Logger } from '../observability/logger';
import type { InstancePool } from '../triton/instance-pool';
import type { Tenancy } from '../tenancy/tenancy';
import type { Router } from './router';
import type { RoleReadiness } from '../observability/role-readiness';

export interface HttpAppDependencies {
  readonly pool: InstancePool;
  readonly router: Router;
  readonly tenancy: Tenancy;
  readonly maxMessageBytes: number;
  readonly version: string;
  readonly logger: Logger;
  /** Told how every inference call ended (metrics, audit, traffic series). */
  readonly observer: InferenceObserver;
  /** False once shutdown has begun: /readyz then answers 503 so orchestrators stop sending traffic. */
  readonly accepting: () => boolean;
}

/** What /healthz and /readyz need: the process's roles and whether each is ready. */
export interface HealthDependencies {
  readonly pool: InstancePool;
  readonly readiness: () => RoleReadiness;
}

/**
 * The HTTP port's app: /healthz (the process is up) and /readyz (every role it runs
 * can work: accepting, and Redis and a ready instance where the role needs them) for
 * orchestrators, plus the routers mounted by the caller (those of its roles).
 */
export function createHttpApp(dependencies: HealthDependencies, routers: readonly express.Router[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', (_request, response) => {
    const instances = dependencies.pool.list().map((instance) => ({ address: instance.address, health: instance.health, ready: instance.serverReady }));
    const { ready, roles, checks } = dependencies.readiness();
    const accepting = checks.find((check) => check.name === 'accepting')?.ok ?? false;
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', accepting, roles, checks, instances });
  });
  for (const router of routers) app.use(router);
  return app;
}
