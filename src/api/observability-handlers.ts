import type { RequestHandler } from 'express';
import type { RedisClient } from '../redis/redis-client';
import { TriageError } from '../errors/triage-error';
import { readTrafficOverview } from '../observability/traffic/traffic-overview';
import { ALL_SCOPE, TRAFFIC_STEP_SECONDS, tenantScope } from '../observability/traffic/traffic-fields';
import { principalOf } from '../proxy/rest/rest-authentication';
import type { RedisKeys } from '../redis/redis-keys';
import type { InstancePool } from '../triton/instance-pool';
import { queryParam } from './request-params';
import { isAdministrator, visibleTenantId } from './tenant-visibility';

/** What Triton's own metrics say about one instance's hardware, when it has been scraped. */
export interface InstanceFigures {
  readonly gpu: readonly { readonly index: string; readonly uuid: string; readonly utilization: number | null; readonly memory_used_bytes: number | null; readonly memory_total_bytes: number | null }[];
  readonly cpu_memory_used_bytes: number | null;
}

export type InstanceFiguresSource = (address: string) => InstanceFigures | null;

export interface ObservabilityHandlerDependencies {
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  readonly pool: InstancePool;
  readonly figures: InstanceFiguresSource;
  readonly nowMs?: () => number;
}

const MAX_WINDOW_SECONDS = 3600;

/**
 * What the dashboard reads besides the resources' own routes: who the key is
 * (GET /v1/whoami), the traffic overview (GET /v1/overview: every call's for an
 * administrator, or one tenant's; a tenant's key sees only its own) and the instances
 * with their health, load and hardware figures (GET /v1/instances).
 */
export function observabilityHandlers(dependencies: ObservabilityHandlerDependencies): { whoami: RequestHandler; overview: RequestHandler; instances: RequestHandler } {
  const nowMs = dependencies.nowMs ?? Date.now;
  return {
    whoami(_request, response) {
      const principal = principalOf(response);
      response.json({ tenant_id: principal.tenantId, key_id: principal.keyId, scopes: [...principal.scopes].sort() });
    },
    async overview(request, response) {
      const principal = principalOf(response);
      const asked = queryParam(request, 'tenant');
      const tenantId = asked !== null ? visibleTenantId(principal, asked) : isAdministrator(principal) ? null : principal.tenantId;
      const windowSeconds = windowOf(queryParam(request, 'window_seconds'));
      const overview = await readTrafficOverview(dependencies.redis, (step) => dependencies.keys.traffic(step), tenantId === null ? ALL_SCOPE : tenantScope(tenantId), windowSeconds, nowMs());
      response.json({ scope: tenantId === null ? 'all' : 'tenant', tenant_id: tenantId, ...overview });
    },
    instances(_request, response) {
      const instances = dependencies.pool.list().map((instance) => {
        const figures = dependencies.figures(instance.address);
        return {
          address: instance.address,
          health: instance.health,
          ready: instance.serverReady,
          in_flight: instance.outstanding,
          last_error: instance.lastError === '' ? null : instance.lastError,
          models: [...instance.readyModels].map(([name, versions]) => ({ name, versions: [...versions].sort((a, b) => Number(a) - Number(b)) }))
            .sort((a, b) => a.name.localeCompare(b.name)),
          gpu: figures?.gpu ?? [],
          cpu_memory_used_bytes: figures?.cpu_memory_used_bytes ?? null,
        };
      });
      response.json({ instances });
    },
  };
}

function windowOf(text: string | null): number {
  if (text === null) return MAX_WINDOW_SECONDS;
  const seconds = Number(text);
  if (!Number.isInteger(seconds) || seconds < 60 || seconds > MAX_WINDOW_SECONDS || seconds % TRAFFIC_STEP_SECONDS !== 0) {
    throw new TriageError('INVALID_ARGUMENT', `query parameter window_seconds must be a whole number of ${TRAFFIC_STEP_SECONDS} s steps from 60 to ${MAX_WINDOW_SECONDS}, got '${text}'`);
  }
  return seconds;
}
