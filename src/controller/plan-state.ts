import type { PolicyInstance, PolicyModel } from './placement-policy';

/**
 * A placement plan while planPlacement builds it. Invariant: `committed` of an instance
 * is the unmanaged footprint it holds plus the footprints of the models in `hosted`, and
 * an instance is in a model's `placed` list exactly when the model is in its `hosted` list.
 */
export interface PlanState {
  /** Address -> committed footprint, bytes. */
  readonly committed: Map<string, number>;
  /** Model -> live instances carrying its instance_labels, by address. */
  readonly matching: Map<string, PolicyInstance[]>;
  /** Model -> instances it is placed on. */
  readonly placed: Map<string, PolicyInstance[]>;
  /** Address -> managed models placed on it. */
  readonly hosted: Map<string, PolicyModel[]>;
  /** Model -> replicas wanted (instances, 'all' resolved). */
  readonly wanted: Map<string, number>;
}

export function load(state: PlanState, instance: PolicyInstance): number {
  return state.committed.get(instance.address) ?? 0;
}

export function fits(state: PlanState, instance: PolicyInstance, model: PolicyModel): boolean {
  return instance.memoryBudgetBytes === null || load(state, instance) + model.footprintBytes <= instance.memoryBudgetBytes;
}

/** Least committed footprint first, ties broken by address. */
export function leastLoaded(state: PlanState): (a: PolicyInstance, b: PolicyInstance) => number {
  return (a, b) => load(state, a) - load(state, b) || compareText(a.address, b.address);
}

export function matchingOf(state: PlanState, model: PolicyModel): PolicyInstance[] {
  return state.matching.get(model.name) ?? [];
}

export function placedOn(state: PlanState, model: PolicyModel): PolicyInstance[] {
  return state.placed.get(model.name) ?? [];
}

export function hostedBy(state: PlanState, instance: PolicyInstance): PolicyModel[] {
  return state.hosted.get(instance.address) ?? [];
}

export function wantedOf(state: PlanState, model: PolicyModel): number {
  return state.wanted.get(model.name) ?? 0;
}

export function isShort(state: PlanState, model: PolicyModel): boolean {
  return placedOn(state, model).length < wantedOf(state, model);
}

export function assign(state: PlanState, model: PolicyModel, instance: PolicyInstance): void {
  state.placed.set(model.name, [...placedOn(state, model), instance]);
  state.hosted.set(instance.address, [...hostedBy(state, instance), model]);
  state.committed.set(instance.address, load(state, instance) + model.footprintBytes);
}

export function unassign(state: PlanState, model: PolicyModel, instance: PolicyInstance): void {
  state.placed.set(model.name, placedOn(state, model).filter((each) => each !== instance));
  state.hosted.set(instance.address, hostedBy(state, instance).filter((each) => each !== model));
  state.committed.set(instance.address, load(state, instance) - model.footprintBytes);
}

/** Places the model's missing replicas on matching instances with free room, least loaded first. */
export function placeInFreeRoom(state: PlanState, model: PolicyModel): void {
  while (isShort(state, model)) {
    const placed = placedOn(state, model);
    const free = matchingOf(state, model).filter((instance) => !placed.includes(instance) && fits(state, instance, model));
    if (free.length === 0) return;
    assign(state, model, free.sort(leastLoaded(state))[0] as PolicyInstance);
  }
}

/** Code-point order: the same on every machine, whatever its locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareNumber(a: number, b: number): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
