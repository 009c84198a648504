import assert from 'node:assert/strict';
import fc from 'fast-check';
import { labelsMatch, planPlacement, type EvictionRule, type PlacementInput, type PolicyInstance, type PolicyModel } from '../../src/controller/placement-policy';

const GiB = 1024 ** 3;

function model(name: string, replicas: number | 'all', footprintBytes = 1 * GiB, instanceLabels: Record<string, string> | null = null): PolicyModel {
  return { name, replicas, footprintBytes, instanceLabels };
}

function instance(address: string, options: { budget?: number | null; labels?: Record<string, string>; holds?: string[] } = {}): PolicyInstance {
  return { address, labels: options.labels ?? {}, memoryBudgetBytes: options.budget ?? null, holds: new Set(options.holds ?? []) };
}

function plan(models: PolicyModel[], instances: PolicyInstance[], unmanaged: Record<string, number> = {}) {
  return planPlacement({ models, instances, unmanagedFootprints: new Map(Object.entries(unmanaged)) });
}

/** A model last used at `lastUsedMs` (null: never). */
function usedAt(name: string, lastUsedMs: number | null, footprintBytes = 1 * GiB, instanceLabels: Record<string, string> | null = null): PolicyModel {
  return { ...model(name, 1, footprintBytes, instanceLabels), lastUsedMs };
}

const NOW = 1_000_000;
const PROTECT = 30_000;

function planWithEviction(models: PolicyModel[], instances: PolicyInstance[], rule: EvictionRule = { nowMs: NOW, protectMs: PROTECT }) {
  return planPlacement({ models, instances, unmanagedFootprints: new Map(), eviction: rule });
}

describe('placement policy', () => {
  it('places N replicas on N distinct instances, least loaded first, ties broken by address', () => {
    const result = plan([model('a', 2)], [instance('10.0.0.3:8001'), instance('10.0.0.1:8001'), instance('10.0.0.2:8001')]);
    assert.deepEqual(result.assignments.get('a'), ['10.0.0.1:8001', '10.0.0.2:8001']);
    assert.deepEqual(result.unplaced, []);
  });

  it('spreads models by committed footprint: each replica goes to the least loaded instance', () => {
    const result = plan([model('big', 1, 8 * GiB), model('m1', 1, 1 * GiB), model('m2', 1, 1 * GiB), model('m3', 1, 1 * GiB)], [instance('a:1'), instance('b:1')]);
    // big first (largest) on a:1, then the three small ones all fit best on b:1 (1, 2, 3 GiB < 8 GiB).
    assert.deepEqual(result.assignments.get('big'), ['a:1']);
    assert.deepEqual(['m1', 'm2', 'm3'].map((name) => result.assignments.get(name)), [['b:1'], ['b:1'], ['b:1']]);
    assert.equal(result.committedBytes.get('a:1'), 8 * GiB);
    assert.equal(result.committedBytes.get('b:1'), 3 * GiB);
  });

  it('keeps existing placements even when another instance is less loaded (stability)', () => {
    const result = plan([model('a', 1), model('b', 1)], [instance('x:1', { holds: ['a', 'b'] }), instance('y:1')]);
    assert.deepEqual(result.assignments.get('a'), ['x:1']);
    assert.deepEqual(result.assignments.get('b'), ['x:1']);
  });

  it('adds the missing replicas next to the kept ones', () => {
    const result = plan([model('a', 3)], [instance('x:1'), instance('y:1', { holds: ['a'] }), instance('z:1'), instance('w:1', { holds: ['other'] })], { other: 5 * GiB });
    assert.deepEqual(result.assignments.get('a'), ['x:1', 'y:1', 'z:1']);
  });

  it('scales down by keeping the least loaded holders', () => {
    const result = plan([model('a', 1), model('heavy', 1, 4 * GiB)], [instance('x:1', { holds: ['a', 'heavy'] }), instance('y:1', { holds: ['a'] })]);
    assert.deepEqual(result.assignments.get('heavy'), ['x:1']);
    // 'a' is processed first (by name) while x:1 and y:1 both hold nothing committed yet: the tie goes to x:1 by address.
    assert.deepEqual(result.assignments.get('a'), ['x:1']);
    const shrunk = plan([model('a', 1)], [instance('x:1', { holds: ['a', 'unmanaged'] }), instance('y:1', { holds: ['a'] })], { unmanaged: 2 * GiB });
    assert.deepEqual(shrunk.assignments.get('a'), ['y:1']);
  });

  it('reports fewer replicas than wanted when there are not enough instances', () => {
    const result = plan([model('a', 3)], [instance('x:1'), instance('y:1')]);
    assert.deepEqual(result.assignments.get('a'), ['x:1', 'y:1']);
    assert.equal(result.unplaced.length, 1);
    assert.deepEqual({ ...result.unplaced[0], reason: undefined }, { name: 'a', wanted: 3, placed: 2, reason: undefined });
    assert.match(result.unplaced[0]?.reason ?? '', /3 replicas wanted but only 2 live instances/);
  });

  it("'all' places the model on every matching instance", () => {
    const result = plan([model('a', 'all'), model('gpu-only', 'all', GiB, { gpu: 'a100' })], [
      instance('x:1', { labels: { gpu: 'a100' } }), instance('y:1', { labels: { gpu: 't4' } }), instance('z:1', { labels: { gpu: 'a100', zone: 'eu' } }),
    ]);
    assert.deepEqual(result.assignments.get('a'), ['x:1', 'y:1', 'z:1']);
    assert.deepEqual(result.assignments.get('gpu-only'), ['x:1', 'z:1']);
    assert.deepEqual(result.unplaced, []);
  });

  it('requires every label of instance_labels to match', () => {
    const instances = [instance('x:1', { labels: { gpu: 'a100' } }), instance('y:1', { labels: { gpu: 'a100', zone: 'eu' } }), instance('z:1', { labels: { zone: 'eu' } })];
    const result = plan([model('a', 2, GiB, { gpu: 'a100', zone: 'eu' })], instances);
    assert.deepEqual(result.assignments.get('a'), ['y:1']);
    assert.match(result.unplaced[0]?.reason ?? '', /only 1 live instance with the labels gpu=a100,zone=eu/);
    assert.equal(labelsMatch({ gpu: 'a100' }, null), true);
    assert.equal(labelsMatch({ gpu: 'a100' }, {}), true);
    assert.equal(labelsMatch({ gpu: 'a100' }, { gpu: 'A100' }), false);
    assert.equal(labelsMatch({}, { toString: 'x' }), false);
  });

  it('reports a model no live instance matches', () => {
    const result = plan([model('a', 1, GiB, { gpu: 'h100' }), model('b', 'all', GiB, { gpu: 'h100' })], [instance('x:1', { labels: { gpu: 'a100' } })]);
    assert.deepEqual(result.assignments.get('a'), []);
    assert.deepEqual(result.assignments.get('b'), []);
    assert.deepEqual(result.unplaced.map((each) => [each.name, each.reason]), [['a', 'no live instance with the labels gpu=h100'], ['b', 'no live instance with the labels gpu=h100']]);
    assert.match(plan([model('a', 1)], []).unplaced[0]?.reason ?? '', /^no live instance$/);
  });

  it('never places beyond an instance budget, and says why', () => {
    const instances = [instance('x:1', { budget: 4 * GiB }), instance('y:1', { budget: 2 * GiB })];
    const result = plan([model('a', 2, 3 * GiB), model('b', 1, 2 * GiB)], instances);
    // a (3 GiB) fits only on x:1; b (2 GiB) then fits only on y:1.
    assert.deepEqual(result.assignments.get('a'), ['x:1']);
    assert.deepEqual(result.assignments.get('b'), ['y:1']);
    assert.equal(result.unplaced.length, 1);
    assert.match(result.unplaced[0]?.reason ?? '', /1 of 2 replicas fit on no instance: the model takes 3221225472 bytes/);
    for (const [address, bytes] of result.committedBytes) {
      const budget = instances.find((each) => each.address === address)?.memoryBudgetBytes;
      assert.ok(budget === null || budget === undefined || bytes <= budget, `${address} over budget`);
    }
  });

  it('counts unmanaged models an instance holds against its budget', () => {
    const result = plan([model('a', 1, 3 * GiB)], [instance('x:1', { budget: 4 * GiB, holds: ['legacy'] }), instance('y:1', { budget: 4 * GiB })], { legacy: 2 * GiB });
    assert.deepEqual(result.assignments.get('a'), ['y:1']);
    const full = plan([model('a', 1, 3 * GiB)], [instance('x:1', { budget: 4 * GiB, holds: ['legacy'] })], { legacy: 2 * GiB });
    assert.deepEqual(full.assignments.get('a'), []);
    assert.equal(full.unplaced[0]?.placed, 0);
  });

  it('does not keep a held model on an instance that no longer has room for it', () => {
    const result = plan([model('a', 1, 3 * GiB)], [instance('x:1', { budget: 2 * GiB, holds: ['a'] }), instance('y:1', { budget: 8 * GiB })]);
    assert.deepEqual(result.assignments.get('a'), ['y:1']);
  });

  it('does not keep a held model on an instance whose labels no longer match', () => {
    const result = plan([model('a', 1, GiB, { gpu: 'a100' })], [instance('x:1', { holds: ['a'] }), instance('y:1', { labels: { gpu: 'a100' } })]);
    assert.deepEqual(result.assignments.get('a'), ['y:1']);
  });

  it('places nothing for replicas 0 (undeployed) and frees what the model held', () => {
    const result = plan([model('a', 0, 3 * GiB), model('b', 1, 3 * GiB)], [instance('x:1', { budget: 4 * GiB, holds: ['a'] })]);
    assert.deepEqual(result.assignments.get('a'), []);
    assert.deepEqual(result.assignments.get('b'), ['x:1']);
    assert.deepEqual(result.unplaced, []);
  });

  it('places larger models first so they are not crowded out by small ones', () => {
    const instances = [instance('x:1', { budget: 4 * GiB }), instance('y:1', { budget: 4 * GiB })];
    const result = plan([model('a-small', 1, 1 * GiB), model('b-small', 1, 1 * GiB), model('z-large', 2, 3 * GiB)], instances);
    assert.deepEqual(result.assignments.get('z-large'), ['x:1', 'y:1']);
    assert.deepEqual(result.unplaced, []);
  });

  describe('eviction by recency', () => {
    const twoFull = (): PolicyInstance[] => [instance('x:1', { budget: GiB, holds: ['a'] }), instance('y:1', { budget: GiB, holds: ['b'] })];

    it('a model used more recently takes the room of the least recently used placed model', () => {
      const result = planWithEviction([usedAt('a', NOW - 90_000), usedAt('b', NOW - 60_000), usedAt('c', NOW - 10)], twoFull());
      assert.deepEqual(result.assignments.get('c'), ['x:1']);
      assert.deepEqual(result.assignments.get('a'), []);
      assert.deepEqual(result.assignments.get('b'), ['y:1']);
      assert.deepEqual(result.evictions, [{ name: 'a', instance: 'x:1', for: 'c' }]);
      assert.deepEqual(result.unplaced.map((each) => [each.name, each.reason]), [['a', "evicted from x:1 for 'c', used more recently (the least recently used model gives its room first)"]]);
      assert.equal(result.committedBytes.get('x:1'), GiB);
    });

    it('without an eviction rule, or for a model never used, nothing is evicted', () => {
      const models = [usedAt('a', NOW - 90_000), usedAt('b', NOW - 60_000), usedAt('c', NOW - 10)];
      assert.deepEqual(plan(models, twoFull()).assignments.get('c'), []);
      assert.deepEqual(plan(models, twoFull()).evictions, []);
      const cold = planWithEviction([usedAt('a', null), usedAt('b', null), usedAt('c', null)], twoFull());
      assert.deepEqual(cold.assignments.get('c'), []);
      assert.deepEqual(cold.evictions, []);
      assert.match(cold.unplaced[0]?.reason ?? '', /^1 of 1 replicas fit on no instance: .*; a placed model gives its room only to one used more recently, and not when it was used in the last 30000 ms$/);
    });

    it('never evicts a model used within protectMs, nor one used more recently', () => {
      const protectedBoth = planWithEviction([usedAt('a', NOW - PROTECT + 1), usedAt('b', NOW - 1000), usedAt('c', NOW)], twoFull());
      assert.deepEqual(protectedBoth.assignments.get('c'), []);
      assert.deepEqual(protectedBoth.evictions, []);
      // b is outside the protection but was used after c: it stays; a was idle long enough and used before c: it goes.
      const mixed = planWithEviction([usedAt('a', NOW - 60_000), usedAt('b', NOW - 40_000), usedAt('c', NOW - 50_000)], twoFull());
      assert.deepEqual(mixed.evictions, [{ name: 'a', instance: 'x:1', for: 'c' }]);
      // Idle exactly protectMs: no longer protected.
      const boundary = planWithEviction([usedAt('a', NOW - PROTECT), usedAt('b', NOW - 1000), usedAt('c', NOW)], twoFull());
      assert.deepEqual(boundary.evictions, [{ name: 'a', instance: 'x:1', for: 'c' }]);
      const newer = planWithEviction([usedAt('a', NOW - 40_000), usedAt('b', NOW - 40_000), usedAt('c', NOW - 50_000)], twoFull());
      assert.deepEqual(newer.evictions, []);
    });

    it('a model never used is the least recently used of all', () => {
      const result = planWithEviction([usedAt('a', NOW - 90_000), usedAt('b', null), usedAt('c', NOW)], twoFull());
      assert.deepEqual(result.evictions, [{ name: 'b', instance: 'y:1', for: 'c' }]);
      assert.deepEqual(result.assignments.get('c'), ['y:1']);
    });

    it('evicts the least recently used first, and only as many as the room needs', () => {
      const instances = [instance('x:1', { budget: 3 * GiB, holds: ['s1', 's2', 's3'] })];
      const models = [usedAt('s1', NOW - 90_000), usedAt('s2', NOW - 80_000), usedAt('s3', NOW - 70_000), usedAt('big', NOW, 2 * GiB)];
      assert.deepEqual(planWithEviction(models, instances).evictions.map((each) => each.name), ['s1', 's2']);
      // s2 protected: s1 and s3 go instead.
      const protectedS2 = [usedAt('s1', NOW - 90_000), usedAt('s2', NOW - 100), usedAt('s3', NOW - 70_000), usedAt('big', NOW, 2 * GiB)];
      assert.deepEqual(planWithEviction(protectedS2, instances).evictions.map((each) => each.name), ['s1', 's3']);
      // Nothing is evicted when even every evictable model would not make room.
      const tooBig = planWithEviction([usedAt('s1', NOW - 90_000), usedAt('s2', NOW - 100), usedAt('s3', NOW - 70_000), usedAt('huge', NOW, 3 * GiB)], instances);
      assert.deepEqual(tooBig.evictions, []);
      assert.deepEqual(tooBig.assignments.get('s1'), ['x:1']);
    });

    it('chooses the instance whose newest victim is the oldest', () => {
      const instances = [instance('x:1', { budget: GiB, holds: ['a'] }), instance('y:1', { budget: GiB, holds: ['b'] }), instance('z:1', { budget: GiB, holds: ['d'] })];
      const result = planWithEviction([usedAt('a', NOW - 50_000), usedAt('b', NOW - 90_000), usedAt('d', NOW - 70_000), usedAt('c', NOW)], instances);
      assert.deepEqual(result.evictions, [{ name: 'b', instance: 'y:1', for: 'c' }]);
    });

    it('an evicted model competes in turn, for models used even less recently', () => {
      // c may run on x:1 only; a, evicted from there, takes y:1 from b, used before a.
      const instances = [instance('x:1', { budget: GiB, holds: ['a'], labels: { gpu: 'a100' } }), instance('y:1', { budget: GiB, holds: ['b'] })];
      const result = planWithEviction([usedAt('a', NOW - 50_000), usedAt('b', NOW - 90_000), usedAt('c', NOW, GiB, { gpu: 'a100' })], instances);
      assert.deepEqual(result.assignments.get('c'), ['x:1']);
      assert.deepEqual(result.assignments.get('a'), ['y:1']);
      assert.deepEqual(result.assignments.get('b'), []);
      assert.deepEqual(result.evictions, [{ name: 'a', instance: 'x:1', for: 'c' }, { name: 'b', instance: 'y:1', for: 'a' }]);
    });

    it('a displaced model the instance does not hold yet is not an eviction', () => {
      // Nothing held: z (larger) is planned first on x:1 by size, then c (used) takes its place; z never got there.
      const result = planWithEviction([usedAt('z', null, 2 * GiB), usedAt('c', NOW, 2 * GiB)], [instance('x:1', { budget: 2 * GiB })]);
      assert.deepEqual(result.assignments.get('c'), ['x:1']);
      assert.deepEqual(result.assignments.get('z'), []);
      assert.deepEqual(result.evictions, []);
      assert.match(result.unplaced[0]?.reason ?? '', /^1 of 1 replicas fit on no instance/);
    });
  });

  it('gives the same plan whatever the order of its inputs', () => {
    const models = [model('a', 2), model('b', 'all'), model('c', 1, 3 * GiB), model('d', 3, 2 * GiB, { zone: 'eu' })];
    const instances = [
      instance('x:1', { budget: 6 * GiB, labels: { zone: 'eu' }, holds: ['a'] }),
      instance('y:1', { budget: 5 * GiB, labels: { zone: 'eu' } }),
      instance('z:1', { budget: null, labels: { zone: 'us' }, holds: ['c', 'legacy'] }),
    ];
    const first = plan(models, instances, { legacy: GiB });
    const second = plan([...models].reverse(), [...instances].reverse(), { legacy: GiB });
    assert.deepEqual([...second.assignments.entries()].sort(), [...first.assignments.entries()].sort());
    assert.deepEqual(second.unplaced, first.unplaced);
  });

  it('keeps its invariants on random inputs: distinct matching instances, within budget, wanted or reported, stable', () => {
    const labelValue = fc.constantFrom('a', 'b');
    const arbitraryInput = fc.record({
      instances: fc.uniqueArray(fc.record({
        address: fc.integer({ min: 1, max: 30 }).map((n) => `10.0.0.${n}:8001`),
        budget: fc.option(fc.integer({ min: 0, max: 20 }), { nil: null }),
        zone: labelValue,
      }), { selector: (each) => each.address, maxLength: 8 }),
      models: fc.uniqueArray(fc.record({
        name: fc.integer({ min: 1, max: 60 }).map((n) => `m${n}`),
        replicas: fc.oneof(fc.integer({ min: 0, max: 5 }), fc.constant('all' as const)),
        footprint: fc.integer({ min: 0, max: 8 }),
        zone: fc.option(labelValue, { nil: null }),
        lastUsed: fc.option(fc.integer({ min: 0, max: 100 }), { nil: null }),
      }), { selector: (each) => each.name, maxLength: 25 }),
      holdSeed: fc.integer({ min: 0, max: 1000 }),
      eviction: fc.option(fc.record({ nowMs: fc.constant(100), protectMs: fc.integer({ min: 0, max: 60 }) }), { nil: undefined }),
    });
    fc.assert(fc.property(arbitraryInput, ({ instances, models, holdSeed, eviction }) => {
      const input: PlacementInput = {
        ...(eviction === undefined ? {} : { eviction }),
        models: models.map((each) => ({ ...model(each.name, each.replicas, each.footprint, each.zone === null ? null : { zone: each.zone }), lastUsedMs: each.lastUsed })),
        instances: instances.map((each, index) => instance(each.address, {
          budget: each.budget,
          labels: { zone: each.zone },
          holds: models.filter((_, m) => (m * 7 + index * 3 + holdSeed) % 5 === 0).map((m) => m.name),
        })),
        unmanagedFootprints: new Map(),
      };
      const result = planPlacement(input);
      const used = new Map<string, number>();
      for (const each of input.models) {
        const assigned = result.assignments.get(each.name) ?? [];
        assert.equal(new Set(assigned).size, assigned.length, 'distinct instances');
        const matching = input.instances.filter((candidate) => labelsMatch(candidate.labels, each.instanceLabels));
        for (const address of assigned) {
          assert.ok(matching.some((candidate) => candidate.address === address), 'labels match');
          used.set(address, (used.get(address) ?? 0) + each.footprintBytes);
        }
        const wanted = each.replicas === 'all' ? matching.length : each.replicas;
        assert.ok(assigned.length <= wanted, 'never more than wanted');
        const reported = result.unplaced.some((unplaced) => unplaced.name === each.name);
        if (assigned.length < wanted || (each.replicas === 'all' && matching.length === 0)) assert.ok(reported, `${each.name} short and not reported`);
        else assert.ok(!reported, `${each.name} reported though placed`);
      }
      for (const candidate of input.instances) {
        if (candidate.memoryBudgetBytes !== null) assert.ok((used.get(candidate.address) ?? 0) <= candidate.memoryBudgetBytes, 'within budget');
      }
      // An eviction: a held model leaves for one placed there, used more recently; never one used within protectMs.
      if (eviction === undefined) assert.deepEqual(result.evictions, []);
      const byName = new Map(input.models.map((each) => [each.name, each]));
      for (const evicted of result.evictions) {
        const victim = byName.get(evicted.name);
        const taker = byName.get(evicted.for);
        assert.ok(victim !== undefined && taker !== undefined && eviction !== undefined);
        assert.ok(input.instances.find((each) => each.address === evicted.instance)?.holds.has(evicted.name), 'the victim was held there');
        assert.ok(!(result.assignments.get(evicted.name) ?? []).includes(evicted.instance), 'the victim leaves');
        assert.ok(taker.lastUsedMs !== null && taker.lastUsedMs !== undefined, 'a model never used evicts nothing');
        assert.ok((victim.lastUsedMs ?? -Infinity) < taker.lastUsedMs, 'the victim was used less recently');
        assert.ok(victim.lastUsedMs === null || victim.lastUsedMs === undefined || eviction.nowMs - victim.lastUsedMs >= eviction.protectMs, 'the victim was idle for protectMs');
      }
      // Applying the plan and planning again changes nothing.
      const applied = planPlacement({
        ...input,
        instances: input.instances.map((candidate) => ({ ...candidate, holds: new Set(input.models.filter((each) => (result.assignments.get(each.name) ?? []).includes(candidate.address)).map((each) => each.name)) })),
      });
      assert.deepEqual([...applied.assignments.entries()], [...result.assignments.entries()]);
      assert.deepEqual(applied.evictions, []);
    }), { numRuns: 500 });
  });
});
