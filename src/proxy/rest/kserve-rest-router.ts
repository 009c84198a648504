import { Router as ExpressRouter } from 'express';
import type { HttpAppDependencies } from '../http-app';

/** KServe v2 REST on the HTTP port (being written). */
export function kserveRestRouter(_dependencies: HttpAppDependencies): ExpressRouter {
  return ExpressRouter();
}
