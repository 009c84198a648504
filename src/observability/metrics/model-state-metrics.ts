import { Gauge, type Registry } from 'prom-client';
import type { PlacementState } from '../../registry/model-record';
import type { RegistryStore } from '../../registry/registry-store';
import { CachedReading } from './cached-reading';
import { METRIC } from './metric-names';

/** Every placement state, so each (model, instance) shows 1 for its state and 0 for the others. */
const PLACEMENT_STATES: readonly PlacementState[] = ['LOADING', 'READY', 'FAILED', 'UNLOADING'];

interface Placement {
  readonly model: string;
  readonly instance: string;
  readonly state: PlacementState;
}

export interface ModelStateMetricsOptions {
  readonly store: Pick<RegistryStore, 'list' | 'placement'>;
  readonly cacheMs: number;
  readonly timeoutMs: number;
}

/**
 * triage_model_state{model, instance, state}: the placement records the controller writes
 * (the `state` of GET /v1/models/{name}), read at scrape time at most once per cacheMs.
 * Models without a placement record (unmanaged ones, evicted ones) have no series.
 */
export function registerModelStateMetrics(registry: Registry, options: ModelStateMetricsOptions): CachedReading<Placement[]> {
  const reading = new CachedReading<Placement[]>(async () => {
    const models = await options.store.list();
    const placements = await Promise.all(models.map((model) => options.store.placement(model.name)));
    return models.flatMap((model, index) => (placements[index] ?? []).map((record) => ({ model: model.name, instance: record.instance, state: record.state })));
  }, { maxAgeMs: options.cacheMs, timeoutMs: options.timeoutMs });
  new Gauge({
    name: METRIC.modelState,
    help: 'Placement state of each model on each instance, as the controller last recorded it: 1 for the current state, 0 for the others.',
    labelNames: ['model', 'triton_instance', 'state'],
    registers: [registry],
    async collect() {
      const placements = await reading.get();
      this.reset();
      for (const placement of placements ?? []) {
        for (const state of PLACEMENT_STATES) this.labels(placement.model, placement.instance, state).set(state === placement.state ? 1 : 0);
      }
    },
  });
  return reading;
}
