/** A managed model as the policy sees it. */
export interface PolicyModel {
  readonly name: string;
  /** Instances wanted: a count (0 = none) or 'all' matching instances. */
  readonly replicas: number | 'all';
  /** Only instances carrying every one of these labels (null: any instance). */
  readonly instanceLabels: Readonly<Record<string, string>> | null;
  /** Bytes it takes on an instance (declared, or estimated: see modelFootprint). */
  readonly footprintBytes: number;
}

/** A live instance as the policy sees it. */
export interface PolicyInstance {
  readonly address: string;
  readonly labels: Readonly<Record<string, string>>;
  /** Memory the models placed on it may take, bytes; null = unlimited. */
  readonly memoryBudgetBytes: number | null;
  /** Models it holds now (READY, or being loaded), managed or not. */
  readonly holds: ReadonlySet<string>;
}

export interface PlacementInput {
  /** Managed models (a deployment set; replicas 0 included). */
  readonly models: readonly PolicyModel[];
  /** Live instances only. */
  readonly instances: readonly PolicyInstance[];
  /**
   * Footprints of the models instances hold that are not managed (they stay where they
   * are and take room); a held model missing here counts 0 bytes.
   */
  readonly unmanagedFootprints: ReadonlyMap<string, number>;
}

/** A model that got fewer instances than it wants, and why. */
export interface UnplacedModel {
  readonly name: string;
  readonly wanted: number;
  readonly placed: number;
  readonly reason: string;
}

export interface PlacementPlan {
  /** Every managed model -> the addresses it should be on, ascending (empty: nowhere). */
  readonly assignments: ReadonlyMap<string, readonly string[]>;
  /** Models with fewer instances than wanted, by name. */
  readonly unplaced: readonly UnplacedModel[];
  /** Committed footprint per instance once the plan is carried out, bytes. */
  readonly committedBytes: ReadonlyMap<string, number>;
}

/**
 * Where every managed model should run. Pure and deterministic: the same input gives the
 * same plan, whatever the order of its lists.
 *
 * Rules, in order:
 * 1. Only live instances carrying every label of the model's instance_labels match.
 * 2. Stability: a model keeps the matching instances that hold it now (up to the replicas
 *    wanted; when it holds more, the least loaded holders are kept), so a healthy
 *    placement never moves.
 * 3. The remaining replicas go to the least-loaded matching instances (by committed
 *    footprint; ties broken by address), larger models placed first.
 * 4. An instance's committed footprint (unmanaged models it holds + models placed on it)
 *    never exceeds its memory budget: a replica that fits nowhere is not placed, and
 *    the model is reported in `unplaced` with the reason.
 * `replicas: N` asks for N distinct instances; 'all' for every matching instance.
 */
export function planPlacement(input: PlacementInput): PlacementPlan {
  const instances = [...input.instances].sort((a, b) => compareText(a.address, b.address));
  const models = [...input.models].sort((a, b) => compareText(a.name, b.name));
  const managed = new Set(models.map((model) => model.name));
  const committed = new Map<string, number>();
  for (const instance of instances) {
    let bytes = 0;
    for (const held of instance.holds) if (!managed.has(held)) bytes += input.unmanagedFootprints.get(held) ?? 0;
    committed.set(instance.address, bytes);
  }
  const load = (instance: PolicyInstance): number => committed.get(instance.address) ?? 0;
  const fits = (instance: PolicyInstance, model: PolicyModel): boolean =>
    instance.memoryBudgetBytes === null || load(instance) + model.footprintBytes <= instance.memoryBudgetBytes;
  const leastLoaded = (a: PolicyInstance, b: PolicyInstance): number => load(a) - load(b) || compareText(a.address, b.address);

  const matching = new Map<string, PolicyInstance[]>();
  const placed = new Map<string, PolicyInstance[]>();
  const wanted = new Map<string, number>();
  for (const model of models) {
    const candidates = instances.filter((instance) => labelsMatch(instance.labels, model.instanceLabels));
    matching.set(model.name, candidates);
    placed.set(model.name, []);
    wanted.set(model.name, model.replicas === 'all' ? candidates.length : Math.max(0, model.replicas));
  }
  const assign = (model: PolicyModel, instance: PolicyInstance): void => {
    (placed.get(model.name) as PolicyInstance[]).push(instance);
    committed.set(instance.address, load(instance) + model.footprintBytes);
  };

  // Rule 2: keep current holders.
  for (const model of models) {
    const holders = (matching.get(model.name) as PolicyInstance[]).filter((instance) => instance.holds.has(model.name));
    const want = wanted.get(model.name) as number;
    for (const instance of holders.sort(leastLoaded)) {
      if ((placed.get(model.name) as PolicyInstance[]).length >= want) break;
      if (fits(instance, model)) assign(model, instance);
    }
  }

  // Rule 3: fill the remaining replicas, larger models first.
  const bySize = [...models].sort((a, b) => b.footprintBytes - a.footprintBytes || compareText(a.name, b.name));
  for (const model of bySize) {
    const want = wanted.get(model.name) as number;
    const modelPlaced = placed.get(model.name) as PolicyInstance[];
    while (modelPlaced.length < want) {
      const free = (matching.get(model.name) as PolicyInstance[]).filter((instance) => !modelPlaced.includes(instance) && fits(instance, model));
      if (free.length === 0) break;
      assign(model, free.sort(leastLoaded)[0] as PolicyInstance);
    }
  }

  const assignments = new Map<string, readonly string[]>();
  const unplaced: UnplacedModel[] = [];
  for (const model of models) {
    const addresses = (placed.get(model.name) as PolicyInstance[]).map((instance) => instance.address).sort(compareText);
    assignments.set(model.name, addresses);
    const want = model.replicas === 'all' ? Math.max(1, wanted.get(model.name) as number) : wanted.get(model.name) as number;
    if (addresses.length < want) {
      unplaced.push({ name: model.name, wanted: want, placed: addresses.length, reason: unplacedReason(model, matching.get(model.name) as PolicyInstance[], addresses.length, want) });
    }
  }
  return { assignments, unplaced, committedBytes: committed };
}

/** True when the instance carries every wanted label with the same value. */
export function labelsMatch(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>> | null): boolean {
  if (wanted === null) return true;
  for (const [key, value] of Object.entries(wanted)) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  return true;
}

function unplacedReason(model: PolicyModel, matching: readonly PolicyInstance[], placed: number, wanted: number): string {
  const labels = model.instanceLabels === null || Object.keys(model.instanceLabels).length === 0
    ? ''
    : ` with the labels ${Object.entries(model.instanceLabels).map(([key, value]) => `${key}=${value}`).sort().join(',')}`;
  if (matching.length === 0) return `no live instance${labels}`;
  if (model.replicas !== 'all' && matching.length < wanted && placed === matching.length) {
    return `${wanted} replicas wanted but only ${matching.length} live instance${matching.length === 1 ? '' : 's'}${labels}`;
  }
  return `${wanted - placed} of ${wanted} replicas fit on no instance${labels}: the model takes ${model.footprintBytes} bytes and the others lack that much free memory budget`;
}

/** Code-point order: the same on every machine, whatever its locale. */
function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
