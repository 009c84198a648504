import type { handleUnaryCall } from '@grpc/grpc-js';
import { unaryHandler } from '../../protocol/grpc-unary-handler';
import type { Logger } from '../../observability/logger';
import type { InstancePool } from '../../triton/instance-pool';
import type { Router } from '../router';
import { mergeModelStatistics } from '../statistics-merge';

export interface StatisticsRequest {
  name: string;
  version: string;
}

const PROBE_TIMEOUT_MS = 10_000;

/**
 * ModelStatistics through triage: the sum over every healthy instance that serves the
 * model (every healthy instance when the name is empty), so the figures cover all the
 * traffic triage routed, whichever instance took it.
 */
export function statisticsHandler(pool: InstancePool, router: Router, logger: Logger): handleUnaryCall<StatisticsRequest, unknown> {
  return unaryHandler<StatisticsRequest, unknown>(logger, 'ModelStatistics', async (request, call) => {
    const deadline = call.getDeadline();
    const timeoutMs = deadline instanceof Date ? Math.max(1, deadline.getTime() - Date.now()) : Number.isFinite(deadline) ? Math.max(1, deadline - Date.now()) : PROBE_TIMEOUT_MS;
    return { model_stats: await collectModelStatistics(pool, router, request, timeoutMs) };
  });
}

/**
 * The merged statistics of a model (every model when the name is empty) over the healthy
 * instances serving it; a model no instance serves is the router's error (NOT_FOUND,
 * UNAVAILABLE). Used by ModelStatistics and by REST `GET .../stats`.
 */
export async function collectModelStatistics(pool: InstancePool, router: Router, request: StatisticsRequest, timeoutMs = PROBE_TIMEOUT_MS): Promise<Record<string, unknown>[]> {
  let instances = pool.list().filter((instance) => instance.isRoutable());
  if (request.name !== '') {
    await router.route({ modelName: request.name, modelVersion: request.version, sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: -1 });
    instances = pool.candidates(request.name, request.version);
  }
  const reports = await Promise.all(instances.map((instance) =>
    instance.client.unary<{ model_stats: Record<string, unknown>[] }>('ModelStatistics', request, { timeoutMs }).then((reply) => reply.model_stats)));
  return mergeModelStatistics(reports);
}
