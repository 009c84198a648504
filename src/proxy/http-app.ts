import express, { type Express } from 'express';
import type { InferenceObserver } from '../observability/inference-observer';
import type { Logger } from '../observability/logger';
import type { InstancePool } from '../triton/instance-pool';
import type { Tenancy } from '../tenancy/tenancy';
import type { Router } from './router';

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

/**
 * The HTTP port's app: /healthz (the process is up) and /readyz (it can serve
 * inference: accepting and at least one instance ready) for orchestrators, plus the
 * routers mounted by the caller (KServe v2 REST).
 */
export function createHttpApp(dependencies: HttpAppDependencies, routers: readonly express.Router[]): Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_request, response) => {
    response.json({ status: 'ok' });
  });
  app.get('/readyz', (_request, response) => {
    const instances = dependencies.pool.list().map((instance) => ({ address: instance.address, health: instance.health, ready: instance.serverReady }));
    const ready = dependencies.accepting() && dependencies.pool.isReady();
    response.status(ready ? 200 : 503).json({ status: ready ? 'ready' : 'not ready', accepting: dependencies.accepting(), instances });
  });
  for (const router of routers) app.use(router);
  return app;
}
