import type { Eviction, EvictionRule, PolicyInstance, PolicyModel } from './placement-policy';
import { assign, compareNumber, compareText, hostedBy, isShort, load, matchingOf, placedOn, placeInFreeRoom, unassign, type PlanState } from './plan-state';

interface Candidate {
  readonly instance: PolicyInstance;
  readonly victims: readonly PolicyModel[];
  /** Last use of the most recently used victim. */
  readonly newest: number;
}

/**
 * Rule 5 of planPlacement: models short of replicas compete by recency. They are taken
 * most recently used first; each takes free room, then the room of models placed on a
 * matching instance that were used strictly less recently and not within protectMs,
 * least recently used evicted first, on the instance whose newest victim is oldest (then
 * fewest victims, then address). A victim competes in turn. A model never used evicts
 * nothing.
 *
 * Invariant: every victim is strictly less recent than the model taking its room, and
 * models are taken in non-increasing recency, so a model already taken is never evicted
 * afterwards, each model is taken at most once, and the loop ends.
 */
export function evictByRecency(state: PlanState, models: readonly PolicyModel[], rule: EvictionRule): Eviction[] {
  const pending = models.filter((model) => isShort(state, model)).sort(newerFirst);
  const queued = new Set(pending.map((model) => model.name));
  const evictions: Eviction[] = [];
  while (pending.length > 0) {
    const model = pending.shift() as PolicyModel;
    placeInFreeRoom(state, model);
    if (recency(model) === -Infinity) continue;
    while (isShort(state, model)) {
      const best = bestCandidate(state, model, rule);
      if (best === null) break;
      for (const victim of best.victims) {
        unassign(state, victim, best.instance);
        evictions.push({ name: victim.name, instance: best.instance.address, for: model.name });
        if (queued.has(victim.name)) continue;
        queued.add(victim.name);
        pending.push(victim);
        pending.sort(newerFirst);
      }
      assign(state, model, best.instance);
    }
  }
  return evictions;
}

/** Where the model can get room by evicting, and whom: null when nowhere. */
function bestCandidate(state: PlanState, model: PolicyModel, rule: EvictionRule): Candidate | null {
  const placed = placedOn(state, model);
  let best: Candidate | null = null;
  for (const instance of matchingOf(state, model)) {
    if (instance.memoryBudgetBytes === null || placed.includes(instance)) continue;
    const evictable = hostedBy(state, instance)
      .filter((other) => recency(other) < recency(model) && !usedWithin(other, rule))
      .sort(olderFirst);
    let room = instance.memoryBudgetBytes - load(state, instance);
    const victims: PolicyModel[] = [];
    for (const victim of evictable) {
      if (room >= model.footprintBytes) break;
      victims.push(victim);
      room += victim.footprintBytes;
    }
    if (victims.length === 0 || room < model.footprintBytes) continue;
    const newest = recency(victims[victims.length - 1] as PolicyModel);
    if (best === null || newest < best.newest || (newest === best.newest && victims.length < best.victims.length)) best = { instance, victims, newest };
  }
  return best;
}

/** Last use in ms, -Infinity for never. */
function recency(model: PolicyModel): number {
  return model.lastUsedMs ?? -Infinity;
}

/** True when the model was used within protectMs of nowMs: it cannot be evicted. */
function usedWithin(model: PolicyModel, rule: EvictionRule): boolean {
  return model.lastUsedMs !== undefined && model.lastUsedMs !== null && rule.nowMs - model.lastUsedMs < rule.protectMs;
}

function newerFirst(a: PolicyModel, b: PolicyModel): number {
  return compareNumber(recency(b), recency(a)) || compareText(a.name, b.name);
}

function olderFirst(a: PolicyModel, b: PolicyModel): number {
  return compareNumber(recency(a), recency(b)) || compareText(a.name, b.name);
}
