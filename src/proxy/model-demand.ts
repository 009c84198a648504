import type { Logger } from '../observability/logger';
import type { RecencyStore } from '../registry/recency-store';
import type { RegistryStore } from '../registry/registry-store';
import type { InstancePool } from '../triton/instance-pool';
import { DeployedModels } from './deployed-models';
import { OnDemandLoader } from './on-demand-loader';
import { RecencyRecorder } from './recency-recorder';

/** How often the last uses noted in memory are written to Redis. */
const RECENCY_FLUSH_MS = 1000;
/** How long the registry's answer "is this model deployed" is reused. */
const DEPLOYED_CACHE_MS = 1000;
/** How often the instances are probed while a call waits for an on-demand load. */
const ON_DEMAND_POLL_MS = 100;

export interface ModelDemandOptions {
  readonly recencyStore: RecencyStore;
  readonly registry: Pick<RegistryStore, 'get'>;
  readonly pool: InstancePool;
  /** 0: no on-demand loading. */
  readonly onDemandTimeoutMs: number;
}

/** The proxy's side of eviction and on-demand loading, for the Router. */
export interface ModelDemand {
  readonly recency: RecencyRecorder;
  /** Null when on-demand loading is off. */
  readonly onDemand: OnDemandLoader | null;
  /** Releases the waiting calls and writes the last uses still in memory. Idempotent. */
  stop(): Promise<void>;
}

/** Starts recording last uses (flushed every second) and, unless the timeout is 0, on-demand loading. */
export function startModelDemand(options: ModelDemandOptions, rootLogger: Logger): ModelDemand {
  const logger = rootLogger.child({ component: 'model-demand' });
  const recency = new RecencyRecorder(options.recencyStore, RECENCY_FLUSH_MS, logger);
  recency.start();
  const deployed = new DeployedModels((model) => options.registry.get(model), DEPLOYED_CACHE_MS, (model, error) => {
    logger.warn({ model, reason: error.message }, 'on-demand load: the registry could not be read; the call is answered as if the model were not deployed');
  });
  const onDemand = options.onDemandTimeoutMs === 0 ? null : new OnDemandLoader({
    pool: options.pool,
    isDeployed: (model) => deployed.isDeployed(model),
    demand: (model) => recency.demand(model),
    timeoutMs: options.onDemandTimeoutMs,
    pollMs: ON_DEMAND_POLL_MS,
    logger,
  });
  let stopping: Promise<void> | null = null;
  return {
    recency,
    onDemand,
    stop: () => {
      stopping ??= (async () => {
        await onDemand?.stop();
        await recency.stop();
      })();
      return stopping;
    },
  };
}
