import type { PlacementRecord, PlacementState } from '../registry/model-record';
import type { RegistryStore } from '../registry/registry-store';

/**
 * A placement record as the controller writes it: PlacementRecord plus `digest`, the
 * load signature (loadSignature) of what was loaded, so a controller that takes over
 * knows whether an instance runs the current config. Readers of PlacementRecord ignore it.
 */
export interface ControllerPlacement extends PlacementRecord {
  readonly digest: string | null;
}

export type PlacementStore = Pick<RegistryStore, 'placement' | 'setPlacement' | 'clearPlacement'>;

/**
 * The leader's copy of the placement records (model -> instance -> record), read from
 * Redis once per model when it starts leading and written through on every change. Only
 * the leader writes placement records, so the copy stays exact while it leads.
 */
export class PlacementBook {
  private readonly records = new Map<string, Map<string, ControllerPlacement>>();

  constructor(private readonly store: PlacementStore, private readonly now: () => Date = () => new Date()) {}

  /** Reads the records of the models not read yet. */
  async load(models: readonly string[]): Promise<void> {
    const unread = models.filter((model) => !this.records.has(model));
    const read = await Promise.all(unread.map((model) => this.store.placement(model)));
    unread.forEach((model, index) => {
      const byInstance = new Map<string, ControllerPlacement>();
      for (const record of read[index] ?? []) byInstance.set(record.instance, { ...record, digest: (record as Partial<ControllerPlacement>).digest ?? null });
      this.records.set(model, byInstance);
    });
  }

  /** Forgets everything (leadership lost: another leader writes meanwhile). */
  reset(): void {
    this.records.clear();
  }

  /** Forgets a model no longer in the registry (its records were deleted with it). */
  forget(model: string): void {
    this.records.delete(model);
  }

  models(): string[] {
    return [...this.records.keys()];
  }

  get(model: string, instance: string): ControllerPlacement | undefined {
    return this.records.get(model)?.get(instance);
  }

  instancesOf(model: string): string[] {
    return [...(this.records.get(model)?.keys() ?? [])];
  }

  /** Writes the record unless it already says exactly this. */
  async set(model: string, instance: string, state: PlacementState, versions: readonly string[], reason: string | null, digest: string | null): Promise<void> {
    const current = this.get(model, instance);
    if (current !== undefined && current.state === state && current.reason === reason && current.digest === digest && sameList(current.versions, versions)) return;
    const record: ControllerPlacement = { instance, state, reason, versions: [...versions], updated_at: this.now().toISOString(), digest };
    await this.store.setPlacement(model, record);
    let byInstance = this.records.get(model);
    if (byInstance === undefined) {
      byInstance = new Map();
      this.records.set(model, byInstance);
    }
    byInstance.set(instance, record);
  }

  async clear(model: string, instance: string): Promise<void> {
    if (this.get(model, instance) === undefined) return;
    await this.store.clearPlacement(model, instance);
    this.records.get(model)?.delete(instance);
  }
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((value, index) => value === b[index]);
}
