import type { Tenancy } from '../../tenancy/tenancy';
import type { Request, Response } from 'express';
import { isTriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { collectModelStatistics } from '../grpc/statistics-handler';
import { JsonInteger } from './exact-json';
import { modelConfigJson } from './model-config-json';
import { requestDeadline } from './request-deadline';
import { sendRestError } from './rest-error';
import { abortWhenClientLeaves, modelOf, sendExactJson } from './rest-reply';
import { routedCall, type RoutedCallContext } from './routed-call';
import { statisticsJson } from './statistics-json';

export interface ModelRoutesContext extends RoutedCallContext {
  readonly tenancy: Tenancy;
  readonly logger: Logger;
}

type Handler = (request: Request, response: Response) => Promise<void>;

interface TensorMetadata {
  name: string;
  datatype: string;
  shape: (string | number)[];
}

interface ModelMetadataResponse {
  name: string;
  versions: string[];
  platform: string;
  inputs: TensorMetadata[];
  outputs: TensorMetadata[];
}

/** Falls back to this bound on statistics calls without a Triage-Timeout-Ms header. */
const STATISTICS_TIMEOUT_MS = 10_000;

/**
 * GET /v2/models/{m}[/versions/{v}]: ModelMetadata through the router, in Triton's JSON
 * (shapes as numbers, -1 for a variable dimension).
 */
export function modelMetadataRoute(context: ModelRoutesContext): Handler {
  return async (request, response) => {
    try {
      const metadata = await routedCall<ModelMetadataResponse>(context, 'ModelMetadata', modelOf(request), callOptions(request, response));
      const tensor = (item: TensorMetadata): unknown => ({ name: item.name, datatype: item.datatype, shape: item.shape.map((dim) => new JsonInteger(String(dim))) });
      sendExactJson(response, { name: metadata.name, versions: metadata.versions, platform: metadata.platform, inputs: metadata.inputs.map(tensor), outputs: metadata.outputs.map(tensor) });
    } catch (error) {
      sendRestError(response, error, context.logger, 'model metadata');
    }
  };
}

/** Triton's HTTP answer (400) for a model version that is not ready, whatever the reason. */
const NOT_READY = { error: 'Model version not ready' };

/**
 * GET /v2/models/{m}[/versions/{v}]/ready: 200 and an empty body when ready, else 400
 * with Triton's text. A model no instance can serve (unknown, not loaded, no healthy
 * instance) is simply not ready, as on the gRPC port and on Triton.
 */
export function modelReadyRoute(context: ModelRoutesContext): Handler {
  return async (request, response) => {
    try {
      const reply = await routedCall<{ ready: boolean }>(context, 'ModelReady', modelOf(request), callOptions(request, response));
      if (reply.ready) response.status(200).end();
      else response.status(400).json(NOT_READY);
    } catch (error) {
      if (isTriageError(error) && (error.code === 'NOT_FOUND' || error.code === 'UNAVAILABLE')) response.status(400).json(NOT_READY);
      else sendRestError(response, error, context.logger, 'model ready');
    }
  };
}

/** GET /v2/models/{m}[/versions/{v}]/config: the ModelConfig in the JSON Triton's HTTP port answers. */
export function modelConfigRoute(context: ModelRoutesContext): Handler {
  return async (request, response) => {
    try {
      const reply = await routedCall<{ config: Record<string, unknown> | null }>(context, 'ModelConfig', modelOf(request), callOptions(request, response));
      sendExactJson(response, modelConfigJson(reply.config ?? {}));
    } catch (error) {
      sendRestError(response, error, context.logger, 'model config');
    }
  };
}

/**
 * GET /v2/models[/{m}[/versions/{v}]]/stats: the statistics summed over every instance
 * serving the model (every model without a name), counters as JSON numbers as in Triton.
 */
export function modelStatisticsRoute(context: ModelRoutesContext): Handler {
  return async (request, response) => {
    try {
      const deadline = requestDeadline(request);
      const timeoutMs = deadline instanceof Date ? Math.max(1, deadline.getTime() - Date.now()) : STATISTICS_TIMEOUT_MS;
      const stats = await collectModelStatistics(context.pool, context.router, modelOf(request), timeoutMs);
      sendExactJson(response, statisticsJson(stats));
    } catch (error) {
      sendRestError(response, error, context.logger, 'model statistics');
    }
  };
}

function callOptions(request: Request, response: Response): { deadline: ReturnType<typeof requestDeadline>; signal: AbortSignal } {
  return { deadline: requestDeadline(request), signal: abortWhenClientLeaves(response) };
}
