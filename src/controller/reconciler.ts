import { performance } from 'node:perf_hooks';
import type { Logger } from '../observability/logger';
import type { ModelRecord } from '../registry/model-record';
import type { RecencyStore } from '../registry/recency-store';
import type { RegistryStore } from '../registry/registry-store';
import type { InstancePool } from '../triton/instance-pool';
import type { TritonInstance } from '../triton/triton-instance';
import { instanceAction, type InstanceAction } from './instance-action';
import type { InstanceProfiles } from './instance-profiles';
import { InstanceQueues } from './instance-queues';
import { loadSignature } from './load-signature';
import { PlacementBook, type PlacementStore } from './placement-book';
import { planPlacement, type Eviction, type PolicyInstance, type UnplacedModel } from './placement-policy';
import { PlanReport } from './plan-report';
import { policyModels } from './policy-models';
import { PlacementWorker, sortedVersions, type DesiredModel } from './placement-worker';
import { RetryBackoff, type RetryBackoffOptions } from './retry-backoff';
import { servedVersions } from './served-versions';

export interface ReconcilerOptions {
  readonly store: PlacementStore & Pick<RegistryStore, 'list' | 'replaceUnplaced' | 'measuredFootprints' | 'setMeasuredFootprint'>;
  /** When each model was last used (the proxies write it). */
  readonly recency: Pick<RecencyStore, 'all' | 'forget'>;
  /** A model used within this long is never evicted for another, ms. */
  readonly evictIdleMs: number;
  readonly pool: Pick<InstancePool, 'list' | 'probeNow'>;
  readonly profiles: InstanceProfiles;
  /** The model repository (push delivery reads the files from it). */
  readonly repository: string;
  readonly retry: RetryBackoffOptions;
  /** Deadline of each RepositoryModelLoad / Unload call. */
  readonly callTimeoutMs: number;
  readonly logger: Logger;
  /** True while this process holds the leader lease. */
  readonly isLeader: () => boolean;
  /** Monotonic clock, ms. */
  readonly nowMs?: () => number;
  /** Wall clock (ms since the epoch), which the last uses are compared with. */
  readonly wallClockMs?: () => number;
}

/** What the controller last planned (for status and tests). */
export interface ReconcileStatus {
  /** Model -> addresses the plan puts it on. */
  readonly assignments: ReadonlyMap<string, readonly string[]>;
  readonly unplaced: readonly UnplacedModel[];
  /** Held models the plan unloads to make room for more recently used ones. */
  readonly evictions: readonly Eviction[];
}

const NO_VERSIONS: ReadonlySet<string> = new Set();

/**
 * Makes the instances hold what the registry's deployments ask for. Each pass reads the
 * records, plans (planPlacement over the live instances), compares every (managed
 * model, live instance) with what the instance reports READY (instanceAction) and
 * queues the work: one load or unload at a time per instance (InstanceQueues), failures
 * retried with backoff. Passes run one at a time, on request (tick, registry change,
 * finished work). Models without a deployment are never touched.
 *
 * Rollouts without loss: a reload of a model runs on one instance at a time, the next
 * only once the previous instance reports the new versions READY (Triton keeps the old
 * version serving until the new one is READY), and a model leaves an instance only once
 * every instance the plan puts it on serves it as wanted.
 *
 * Eviction: models compete for memory budgets by their last use (planPlacement, rule 5).
 * An evicted model is unloaded at once, and an instance with an eviction under way
 * loads nothing until it is done, so the room is free before a load takes it.
 */
export class Reconciler {
  private readonly book: PlacementBook;
  private readonly backoff: RetryBackoff;
  private readonly worker: PlacementWorker;
  private readonly queues: InstanceQueues;
  private readonly nowMs: () => number;
  /** Managed models as the last pass wanted them. */
  private desired = new Map<string, DesiredModel>();
  /** Model -> the one instance its rollout (reload) is on. */
  private readonly rollouts = new Map<string, string>();
  private status: ReconcileStatus = { assignments: new Map(), unplaced: [], evictions: [] };
  /** Instance address -> models the last plan evicts from it. */
  private evicting = new Map<string, Set<string>>();
  private readonly report: PlanReport;
  private readonly wallClockMs: () => number;
  private active = false;
  private running: Promise<void> | null = null;
  private again = false;
  private lastError = '';

  constructor(private readonly options: ReconcilerOptions) {
    this.nowMs = options.nowMs ?? (() => performance.now());
    this.wallClockMs = options.wallClockMs ?? Date.now;
    this.report = new PlanReport(options.store, options.logger);
    this.book = new PlacementBook(options.store);
    this.backoff = new RetryBackoff(options.retry);
    this.worker = new PlacementWorker({
      book: this.book,
      backoff: this.backoff,
      pool: options.pool,
      profiles: options.profiles,
      repository: options.repository,
      callTimeoutMs: options.callTimeoutMs,
      footprints: options.store,
      logger: options.logger,
      isLeader: () => this.active && options.isLeader(),
      nowMs: this.nowMs,
    });
    this.queues = new InstanceQueues((instance, model) => this.work(instance, model));
  }

  /** Leadership acquired: start from what Redis and the instances say, and reconcile now. */
  activate(): void {
    this.active = true;
    this.request();
  }

  /** Leadership lost: stop starting work at once and forget what another leader may change. */
  deactivate(): void {
    this.active = false;
    this.queues.clearWaiting();
    this.rollouts.clear();
    this.backoff.clear();
    this.book.reset();
    this.report.reset();
    this.desired = new Map();
    this.evicting = new Map();
  }

  /** Runs a pass now, or right after the one running. */
  request(): void {
    if (!this.active) return;
    if (this.running !== null) {
      this.again = true;
      return;
    }
    this.running = (async () => {
      do {
        this.again = false;
        await this.pass().catch((error: unknown) => this.passFailed(error));
      } while (this.again && this.active);
    })().finally(() => { this.running = null; });
  }

  lastStatus(): ReconcileStatus {
    return this.status;
  }

  /** Deactivates and waits for the running pass, and for work under way up to waitMs. */
  async stop(waitMs: number): Promise<void> {
    this.deactivate();
    await this.running;
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([this.queues.idle(), new Promise<void>((resolve) => { timer = setTimeout(resolve, waitMs); })]);
    clearTimeout(timer);
  }

  private async pass(): Promise<void> {
    if (!this.leading()) return;
    const records = await this.options.store.list();
    const names = new Set(records.map((record) => record.name));
    await this.book.load([...names]);
    for (const model of this.book.models()) if (!names.has(model)) this.book.forget(model);
    const lastUses = await this.options.recency.all();
    const unregistered = [...lastUses.keys()].filter((model) => !names.has(model));
    if (unregistered.length > 0) await this.options.recency.forget(unregistered);
    const managed = records.filter((record) => record.deployment !== null);
    const instances = this.options.pool.list();
    const live = instances.filter((instance) => instance.isRoutable());
    const plan = planPlacement({
      ...policyModels(records, lastUses, await this.currentMeasurements(records)),
      instances: live.map((instance) => this.policyInstance(instance)),
      eviction: { nowMs: this.wallClockMs(), protectMs: this.options.evictIdleMs },
    });
    this.status = { assignments: plan.assignments, unplaced: plan.unplaced, evictions: plan.evictions };
    this.evicting = new Map();
    for (const eviction of plan.evictions) this.evicting.set(eviction.instance, (this.evicting.get(eviction.instance) ?? new Set()).add(eviction.name));
    this.desired = new Map(managed.map((record) => [record.name, this.desiredModel(record, plan.assignments.get(record.name) ?? [])]));
    if (!this.leading()) return;
    await this.report.report(plan.unplaced, plan.evictions);
    const known = new Set(instances.map((instance) => instance.address));
    for (const model of this.desired.values()) {
      const rolling = this.rollouts.get(model.record.name);
      if (rolling !== undefined && !live.some((instance) => instance.address === rolling)) this.rollouts.delete(model.record.name);
      for (const instance of live) await this.visit(model, instance);
      // Records of instances that left the pool (DNS) describe nothing any more.
      for (const address of this.book.instancesOf(model.record.name)) if (!known.has(address) && this.leading()) await this.book.clear(model.record.name, address);
    }
    for (const model of this.rollouts.keys()) if (!this.desired.has(model)) this.rollouts.delete(model);
    this.lastError = '';
  }

  /** Footprints measured after a load of each model's current configuration and versions (older measurements do not count). */
  private async currentMeasurements(records: readonly ModelRecord[]): Promise<Map<string, number>> {
    const measured = await this.options.store.measuredFootprints();
    const current = new Map<string, number>();
    for (const record of records) {
      const measurement = measured.get(record.name);
      if (measurement !== undefined && measurement.digest === loadSignature(record, servedVersions(record))) current.set(record.name, measurement.bytes);
    }
    return current;
  }

  /** Compares one (model, instance) and queues work, or brings its record up to date. */
  private async visit(model: DesiredModel, instance: TritonInstance): Promise<void> {
    if (!this.leading()) return; // leadership may end during a pass: from then on nothing is written
    const name = model.record.name;
    const action = this.actionFor(model, instance);
    // A rollout step ends when its instance needs no reload any more (done, or no longer placed there).
    if (this.rollouts.get(name) === instance.address && action !== 'reload' && !this.queues.busy(instance.address, name)) this.rollouts.delete(name);
    if (action === 'none') {
      await this.syncRecord(model, instance);
      return;
    }
    if (this.queues.busy(instance.address, name)) return;
    if (this.backoff.blocked(name, instance.address, action === 'unload' ? 'unload' : model.digest, this.nowMs())) return;
    if (!this.allowed(model, instance, action)) return;
    if (action === 'reload') this.rollouts.set(name, instance.address);
    this.queues.enqueue(instance.address, name);
  }

  /** Queued work: acts on the newest desired state, if there is still something to do and it is still allowed. */
  private async work(address: string, name: string): Promise<void> {
    try {
      const model = this.desired.get(name);
      const instance = this.options.pool.list().find((each) => each.address === address);
      if (!this.leading() || model === undefined || instance === undefined || !instance.isRoutable()) return;
      const action = this.actionFor(model, instance);
      if (action === 'none' || !this.allowed(model, instance, action)) return;
      if (action === 'unload') await this.worker.unload(instance, name);
      else await this.worker.load(instance, model);
    } catch (error) {
      this.options.logger.warn({ model: name, instance: address, reason: (error as Error).message }, 'controller: could not record a placement');
    } finally {
      // The next step (of a rollout, or an unload waiting for the new holders) may go now.
      this.request();
    }
  }

  private actionFor(model: DesiredModel, instance: TritonInstance): InstanceAction {
    return instanceAction({
      placed: model.assigned.has(instance.address),
      servedVersions: model.versions,
      readyVersions: instance.readyModels.get(model.record.name) ?? NO_VERSIONS,
      loadedDigest: this.book.get(model.record.name, instance.address)?.digest ?? null,
      desiredDigest: model.digest,
    });
  }

  /**
   * A load goes unless the instance has an eviction under way (the room is not free
   * yet). A reload goes on the model's rollout instance only (one at a time). An unload
   * goes when the model is evicted from the instance, once the model is placed nowhere,
   * or once every instance it is placed on serves it as wanted.
   */
  private allowed(model: DesiredModel, instance: TritonInstance, action: InstanceAction): boolean {
    const name = model.record.name;
    const evicting = this.evicting.get(instance.address);
    if (action === 'load') return evicting === undefined;
    if (action === 'unload' && evicting?.has(name) === true) return true;
    if (action === 'reload') {
      const rolling = this.rollouts.get(name);
      return rolling === undefined || rolling === instance.address;
    }
    if (action !== 'unload') return true;
    for (const address of model.assigned) {
      const holder = this.options.pool.list().find((each) => each.address === address);
      if (holder === undefined || this.actionFor(model, holder) !== 'none') return false;
    }
    return true;
  }

  /** With nothing to do: READY where the model is served as wanted, no record where it is not held. */
  private async syncRecord(model: DesiredModel, instance: TritonInstance): Promise<void> {
    const name = model.record.name;
    if (this.queues.busy(instance.address, name)) return;
    if (model.assigned.has(instance.address)) {
      await this.book.set(name, instance.address, 'READY', sortedVersions(instance.readyModels.get(name)), null, model.digest);
    } else {
      await this.book.clear(name, instance.address);
    }
  }

  private desiredModel(record: ModelRecord, assigned: readonly string[]): DesiredModel {
    const previous = this.desired.get(record.name);
    if (previous !== undefined && previous.record.revision === record.revision && previous.record.updated_at === record.updated_at) {
      return { ...previous, record, assigned: new Set(assigned) };
    }
    const versions = servedVersions(record);
    return { record, versions, digest: loadSignature(record, versions), assigned: new Set(assigned) };
  }

  private policyInstance(instance: TritonInstance): PolicyInstance {
    const holds = new Set(instance.readyModels.keys());
    // A load under way (queued here, or LOADING in a record another leader left) counts as held: the plan stays put.
    for (const model of this.queues.pending(instance.address)) holds.add(model);
    for (const model of this.book.models()) if (this.book.get(model, instance.address)?.state === 'LOADING') holds.add(model);
    return {
      address: instance.address,
      labels: this.options.profiles.labels(instance.address),
      memoryBudgetBytes: this.options.profiles.memoryBudgetBytes(instance.address),
      holds,
    };
  }

  private passFailed(error: unknown): void {
    const reason = (error as Error).message;
    if (reason !== this.lastError) this.options.logger.warn({ reason }, 'controller: reconcile pass failed; retrying at the next tick');
    this.lastError = reason;
  }

  private leading(): boolean {
    return this.active && this.options.isLeader();
  }
}
