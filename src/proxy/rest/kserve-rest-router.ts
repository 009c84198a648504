import express, { Router as ExpressRouter, type NextFunction, type Request, type Response } from 'express';
import { serverMetadata } from '../grpc/server-handlers';
import type { HttpAppDependencies } from '../http-app';
import { inferRoute } from './infer-route';
import { observeRestInference } from './rest-inference-observation';
import { restAuthentication } from './rest-authentication';
import { modelConfigRoute, modelMetadataRoute, modelReadyRoute, modelStatisticsRoute, type ModelRoutesContext } from './model-routes';
import { sendRestError } from './rest-error';
import { sendExactJson } from './rest-reply';

/** /v2/models/{m} with an optional /versions/{v}. */
const MODEL = '/v2/models/:model{/versions/:version}';

/**
 * KServe v2 REST on the HTTP port, with Triton's routes and answers: health, server and
 * model metadata, model readiness, config and statistics, and inference (JSON and the
 * binary tensor extension, gzip or deflate bodies up to maxMessageBytes). Every model
 * call is translated to the GRPCInferenceService call the gRPC front door would route.
 */
export function kserveRestRouter(dependencies: HttpAppDependencies): ExpressRouter {
  const context: ModelRoutesContext = { pool: dependencies.pool, router: dependencies.router, tenancy: dependencies.tenancy, logger: dependencies.logger.child({ component: 'kserve-rest' }) };
  const authenticator = dependencies.tenancy.authenticator;
  const reader = restAuthentication(authenticator, ['infer', 'read'], context.logger);
  const admin = restAuthentication(authenticator, ['admin'], context.logger);
  const inferrer = restAuthentication(authenticator, ['infer'], context.logger);
  const router = ExpressRouter();
  const get = (path: string, handler: express.RequestHandler): void => {
    router.route(path).get(handler).all(methodNotAllowed('GET'));
  };
  get('/v2/health/live', (_request, response) => {
    response.status(200).end();
  });
  get('/v2/health/ready', (_request, response) => {
    response.status(dependencies.accepting() && dependencies.pool.isReady() ? 200 : 503).end();
  });
  get('/v2', (_request, response) => {
    sendExactJson(response, serverMetadata(dependencies.pool, dependencies.version));
  });
  // Before MODEL, which would otherwise take "stats" for a model name.
  // Statistics sum every tenant's traffic: admins only. Model metadata: infer or read.
  router.route('/v2/models/stats').get(admin, modelStatisticsRoute(context)).all(methodNotAllowed('GET'));
  router.route(`${MODEL}/stats`).get(admin, modelStatisticsRoute(context)).all(methodNotAllowed('GET'));
  router.route(`${MODEL}/ready`).get(reader, modelReadyRoute(context)).all(methodNotAllowed('GET'));
  router.route(`${MODEL}/config`).get(reader, modelConfigRoute(context)).all(methodNotAllowed('GET'));
  router.route(MODEL).get(reader, modelMetadataRoute(context)).all(methodNotAllowed('GET'));
  const body = express.raw({ type: () => true, limit: dependencies.maxMessageBytes, inflate: true });
  // The key is checked before the body is read: an unauthenticated client cannot make triage buffer a large body.
  router.route(`${MODEL}/infer`).post(observeRestInference(dependencies.observer), inferrer, body, inferRoute(context)).all(methodNotAllowed('POST'));
  // Errors of the body parser (too large, unknown encoding, aborted) arrive here.
  router.use((error: unknown, _request: Request, response: Response, _next: NextFunction) => {
    sendRestError(response, error, context.logger, 'request body');
  });
  return router;
}

/** Triton's answer to a known path with the wrong method. */
function methodNotAllowed(allowed: string): express.RequestHandler {
  return (_request, response) => {
    response.setHeader('allow', allowed);
    response.status(405).json({ error: 'Method Not Allowed' });
  };
}
