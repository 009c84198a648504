import { evictByRecency } from './evict-by-recency';
import { assign, compareText, fits, isShort, leastLoaded, matchingOf, placedOn, placeInFreeRoom, wantedOf, type PlanState } from './plan-state';

/** A managed model as the policy sees it. */
export interface PolicyModel {
  readonly name: string;
  /** Instances wanted: a count (0 = none) or 'all' matching instances. */
  readonly replicas: number | 'all';
  /** Only instances carrying every one of these labels (null: any instance). */
  readonly instanceLabels: Readonly<Record<string, string>> | null;
  /** Bytes it takes on an instance (declared, or estimated: see modelFootprint). */
  readonly footprintBytes: number;
  /** When a request last used it (wall clock, ms since the epoch); absent or null: never. */
  readonly lastUsedMs?: number | null;
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
  /** Eviction by recency (rule 5); absent: models never displace each other. */
  readonly eviction?: EvictionRule;
}

/** When a model may take the room of another. */
export interface EvictionRule {
  /** The time last uses are compared with (wall clock, ms since the epoch). */
  readonly nowMs: number;
  /** A placed model used within this long (ms) is never evicted: what stops two models from taking turns. */
  readonly protectMs: number;
}

/** A model an instance holds that the plan removes from it to make room for a more recently used one. */
export interface Eviction {
  readonly name: string;
  readonly instance: string;
  /** The model that takes its room. */
  readonly for: string;
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
  /** Held models the plan unloads for more recently used ones, by instance then name. */
  readonly evictions: readonly Eviction[];
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
 * 5. With an eviction rule, models still short of replicas compete by recency, the most
 *    recently used first: one may take the room of models placed on a matching instance
 *    that were used strictly less recently (never used counts as least recent) and not
 *    within protectMs, the least recently used evicted first, on the instance whose
 *    newest victim is oldest (then fewest victims, then address). An evicted model
 *    competes in turn, for models used even less recently, so the process ends. Room
 *    left over goes to short models as in rule 3. A model never used evicts nothing.
 * `replicas: N` asks for N distinct instances; 'all' for every matching instance.
 */
export function planPlacement(input: PlacementInput): PlacementPlan {
  const instances = [...input.instances].sort((a, b) => compareText(a.address, b.address));
  const models = [...input.models].sort((a, b) => compareText(a.name, b.name));
  const managed = new Set(models.map((model) => model.name));
  const state: PlanState = { committed: new Map(), matching: new Map(), placed: new Map(), hosted: new Map(), wanted: new Map() };
  for (const instance of instances) {
    let bytes = 0;
    for (const held of instance.holds) if (!managed.has(held)) bytes += input.unmanagedFootprints.get(held) ?? 0;
    state.committed.set(instance.address, bytes);
  }
  for (const model of models) {
    const candidates = instances.filter((instance) => labelsMatch(instance.labels, model.instanceLabels));
    state.matching.set(model.name, candidates);
    state.wanted.set(model.name, model.replicas === 'all' ? candidates.length : Math.max(0, model.replicas));
  }

  // Rule 2: keep current holders.
  for (const model of models) {
    const holders = matchingOf(state, model).filter((instance) => instance.holds.has(model.name));
    for (const instance of holders.sort(leastLoaded(state))) {
      if (!isShort(state, model)) break;
      if (fits(state, instance, model)) assign(state, model, instance);
    }
  }

  // Rule 3: fill the remaining replicas, larger models first.
  const bySize = [...models].sort((a, b) => b.footprintBytes - a.footprintBytes || compareText(a.name, b.name));
  for (const model of bySize) placeInFreeRoom(state, model);

  // Rule 5: eviction by recency, then the room left over, as in rule 3.
  let evictions: Eviction[] = [];
  if (input.eviction !== undefined) {
    evictions = evictByRecency(state, models, input.eviction);
    for (const model of bySize) placeInFreeRoom(state, model);
  }
  // An eviction stands for a model the instance holds (there is something to unload) that the plan does not put back there.
  const standing = evictions
    .filter((each) => instances.some((instance) => instance.address === each.instance && instance.holds.has(each.name)))
    .filter((each) => !(state.placed.get(each.name) ?? []).some((instance) => instance.address === each.instance))
    .sort((a, b) => compareText(a.instance, b.instance) || compareText(a.name, b.name));

  const assignments = new Map<string, readonly string[]>();
  const unplaced: UnplacedModel[] = [];
  for (const model of models) {
    const addresses = placedOn(state, model).map((instance) => instance.address).sort(compareText);
    assignments.set(model.name, addresses);
    const want = model.replicas === 'all' ? Math.max(1, wantedOf(state, model)) : wantedOf(state, model);
    if (addresses.length < want) {
      const evicted = standing.filter((each) => each.name === model.name);
      const reason = evicted.length > 0
        ? evictedReason(evicted)
        : unplacedReason(model, matchingOf(state, model), addresses.length, want, input.eviction);
      unplaced.push({ name: model.name, wanted: want, placed: addresses.length, reason });
    }
  }
  return { assignments, unplaced, committedBytes: state.committed, evictions: standing };
}

/** True when the instance carries every wanted label with the same value. */
export function labelsMatch(labels: Readonly<Record<string, string>>, wanted: Readonly<Record<string, string>> | null): boolean {
  if (wanted === null) return true;
  for (const [key, value] of Object.entries(wanted)) {
    if (!Object.prototype.hasOwnProperty.call(labels, key) || labels[key] !== value) return false;
  }
  return true;
}

function unplacedReason(model: PolicyModel, matching: readonly PolicyInstance[], placed: number, wanted: number, eviction: EvictionRule | undefined): string {
  const labels = model.instanceLabels === null || Object.keys(model.instanceLabels).length === 0
    ? ''
    : ` with the labels ${Object.entries(model.instanceLabels).map(([key, value]) => `${key}=${value}`).sort().join(',')}`;
  if (matching.length === 0) return `no live instance${labels}`;
  if (model.replicas !== 'all' && matching.length < wanted && placed === matching.length) {
    return `${wanted} replicas wanted but only ${matching.length} live instance${matching.length === 1 ? '' : 's'}${labels}`;
  }
  const short = `${wanted - placed} of ${wanted} replicas fit on no instance${labels}: the model takes ${model.footprintBytes} bytes and the others lack that much free memory budget`;
  if (eviction === undefined) return short;
  return `${short}; a placed model gives its room only to one used more recently, and not when it was used in the last ${eviction.protectMs} ms`;
}

function evictedReason(evicted: readonly Eviction[]): string {
  const instances = [...new Set(evicted.map((each) => each.instance))].join(', ');
  const takers = [...new Set(evicted.map((each) => `'${each.for}'`))].sort().join(', ');
  return `evicted from ${instances} for ${takers}, used more recently (the least recently used model gives its room first)`;
}
