import type { ModelRecord } from '../registry/model-record';
import { modelFootprint } from './model-footprint';
import type { PolicyModel } from './placement-policy';

/** The registry's records as planPlacement takes them. */
export interface PolicyModels {
  /** Managed models (a deployment set, replicas 0 included), with footprint and last use. */
  readonly models: PolicyModel[];
  /** Footprints of the unmanaged models (deployment null). */
  readonly unmanagedFootprints: Map<string, number>;
}

/**
 * Splits the records into managed models and unmanaged footprints; `lastUses`: model ->
 * last use, ms since the epoch; `measured`: model -> footprint measured after a load of
 * its current configuration and versions.
 */
export function policyModels(records: readonly ModelRecord[], lastUses: ReadonlyMap<string, number>, measured: ReadonlyMap<string, number> = new Map()): PolicyModels {
  const models: PolicyModel[] = [];
  const unmanagedFootprints = new Map<string, number>();
  for (const record of records) {
    if (record.deployment === null) {
      unmanagedFootprints.set(record.name, modelFootprint(record, measured.get(record.name) ?? null));
      continue;
    }
    models.push({
      name: record.name,
      replicas: record.deployment.replicas,
      instanceLabels: record.deployment.instance_labels,
      footprintBytes: modelFootprint(record, measured.get(record.name) ?? null),
      lastUsedMs: lastUses.get(record.name) ?? null,
    });
  }
  return { models, unmanagedFootprints };
}
