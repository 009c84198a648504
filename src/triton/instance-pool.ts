import type { TritonTargets } from '../config/triton-targets';
import type { Logger } from '../observability/logger';
import { resolveAddresses } from './dns-addresses';
import { probeInstance, probeMaxBatchSize } from './instance-probe';
import { TritonInstance } from './triton-instance';

export interface InstancePoolOptions {
  /** Static or DNS targets; 'embedded' is resolved by the caller into a static address. */
  readonly targets: Exclude<TritonTargets, { kind: 'embedded' }>;
  readonly probeIntervalMs: number;
  readonly probeTimeoutMs: number;
  readonly dnsRefreshMs: number;
  readonly maxMessageBytes: number;
  readonly logger: Logger;
  /** For tests: how DNS names resolve. */
  readonly resolve?: (name: string, port: number) => Promise<string[]>;
}

/**
 * Probing an ejected instance starts at this delay and doubles up to RETRY_MAX_MS.
 * RETRY_MAX_MS stays well below the channel's longest reconnect backoff (2 s with 20%
 * jitter, grpc-options.ts): a probe that lands while the channel is still backing off
 * fails without trying, and the next must follow soon, or a returning instance waits
 * two full periods (about 4.5 s) to be re-admitted instead of at most about 3.5 s.
 */
const RETRY_MIN_MS = 250;
const RETRY_MAX_MS = 1000;
const REFRESH_MIN_INTERVAL_MS = 250;

/**
 * The Triton instances triage routes to. Each instance is probed on its own timer:
 * every probeIntervalMs while healthy; after a failure it is ejected (no traffic) and
 * re-probed with backoff (250 ms doubling to 1 s) until it answers again, then
 * re-admitted. The proxy also reports calls that could not reach an instance, which
 * ejects it at once. With DNS targets the name is re-resolved every dnsRefreshMs and
 * instances come and go with the answer.
 *
 * Invariant: after stop() resolves no timer is pending and every channel is closed.
 */
export class InstancePool {
  private readonly instances = new Map<string, TritonInstance>();
  private readonly timers = new Map<string, NodeJS.Timeout>();
  private readonly retryDelays = new Map<string, number>();
  /** Per address: number of the last probe started, and of the last one whose result was applied. */
  private readonly probesStarted = new Map<string, number>();
  private readonly probesApplied = new Map<string, number>();
  private dnsTimer: NodeJS.Timeout | null = null;
  private refreshing: Promise<void> | null = null;
  private lastRefreshMs = 0;
  private stopped = false;

  constructor(private readonly options: InstancePoolOptions) {}

  /** Discovers the instances and waits for the first probe of each. */
  async start(): Promise<void> {
    await this.discover();
    await Promise.all([...this.instances.values()].map((instance) => this.probe(instance)));
    if (this.options.targets.kind === 'dns') this.scheduleDns();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const timer of this.timers.values()) clearTimeout(timer);
    this.timers.clear();
    if (this.dnsTimer !== null) clearTimeout(this.dnsTimer);
    this.dnsTimer = null;
    await this.refreshing;
    for (const instance of this.instances.values()) instance.close();
    this.instances.clear();
  }

  list(): TritonInstance[] {
    return [...this.instances.values()];
  }

  /** Healthy instances that report the model (and version, unless '') READY. */
  candidates(model: string, version: string): TritonInstance[] {
    const found: TritonInstance[] = [];
    for (const instance of this.instances.values()) {
      if (instance.isRoutable() && instance.serves(model, version)) found.push(instance);
    }
    return found;
  }

  /** True when some instance's repository lists the model, loaded or not. */
  knows(model: string): boolean {
    for (const instance of this.instances.values()) if (instance.knownModels.has(model)) return true;
    return false;
  }

  /** triage is ready when at least one instance is healthy and ready. */
  isReady(): boolean {
    for (const instance of this.instances.values()) if (instance.isRoutable() && instance.serverReady) return true;
    return false;
  }

  /** A call could not reach the instance: eject it now and probe it soon. */
  reportUnreachable(instance: TritonInstance, reason: string): void {
    if (this.stopped || this.instances.get(instance.address) !== instance || instance.health === 'ejected') return;
    this.eject(instance, reason);
    this.schedule(instance, RETRY_MIN_MS);
  }

  /**
   * Re-reads every healthy instance's model index (one refresh at a time; callers
   * arriving during a refresh share it, and at most one starts per REFRESH_MIN_INTERVAL_MS,
   * so requests for unknown models cannot flood the instances with probes: a caller that
   * comes sooner waits for the next one rather than going without). Used when a request
   * names a model no instance was known to serve: it may have been loaded since. With no
   * healthy instance there is nothing to re-read, and the caller does not wait.
   */
  refreshModels(): Promise<void> {
    if (this.refreshing === null && !this.list().some((instance) => instance.isRoutable())) return Promise.resolve();
    this.refreshing ??= this.refreshAfterMinInterval().finally(() => { this.refreshing = null; });
    return this.refreshing;
  }

  /**
   * Probes one instance now (its next probe follows probeIntervalMs later): after a load or
   * an unload the router and the controller see the new READY versions at once rather
   * than at the next periodic probe. Resolves when the probe has been applied.
   */
  async probeNow(address: string): Promise<void> {
    const instance = this.instances.get(address);
    if (instance === undefined || this.stopped) return;
    await this.probe(instance);
  }

  private async refreshAfterMinInterval(): Promise<void> {
    const waitMs = this.lastRefreshMs + REFRESH_MIN_INTERVAL_MS - Date.now();
    if (waitMs > 0) await new Promise((resolve) => setTimeout(resolve, waitMs));
    if (this.stopped) return;
    this.lastRefreshMs = Date.now();
    await Promise.all([...this.instances.values()]
      .filter((instance) => instance.isRoutable())
      .map((instance) => this.probe(instance)));
  }

  private async probe(instance: TritonInstance): Promise<void> {
    const timer = this.timers.get(instance.address);
    if (timer !== undefined) clearTimeout(timer);
    this.timers.delete(instance.address);
    // Probes may overlap (probeNow during a periodic one): a result older than one already applied is dropped.
    const sequence = (this.probesStarted.get(instance.address) ?? 0) + 1;
    this.probesStarted.set(instance.address, sequence);
    const outdated = (): boolean => sequence < (this.probesApplied.get(instance.address) ?? 0);
    try {
      const result = await probeInstance(instance.client, this.options.probeTimeoutMs);
      if (this.stopped || this.instances.get(instance.address) !== instance || outdated()) return;
      const maxBatchSizes = await this.batchSizes(instance, instance.readyModels, result.readyModels);
      if (this.stopped || this.instances.get(instance.address) !== instance || outdated()) return;
      this.probesApplied.set(instance.address, sequence);
      instance.serverReady = result.ready;
      instance.extensions = result.extensions;
      instance.maxBatchSizes = maxBatchSizes;
      instance.readyModels = result.readyModels;
      instance.knownModels = result.knownModels;
      instance.consecutiveFailures = 0;
      if (instance.health !== 'healthy') {
        this.options.logger.info({ instance: instance.address, models: [...result.readyModels.keys()] }, instance.health === 'ejected' ? 'instance re-admitted' : 'instance healthy');
      }
      instance.health = 'healthy';
      this.retryDelays.delete(instance.address);
      this.schedule(instance, this.options.probeIntervalMs);
    } catch (error) {
      if (this.stopped || this.instances.get(instance.address) !== instance || outdated()) return;
      this.probesApplied.set(instance.address, sequence);
      instance.consecutiveFailures += 1;
      this.eject(instance, (error as Error).message);
      const delay = this.retryDelays.get(instance.address) ?? RETRY_MIN_MS;
      this.retryDelays.set(instance.address, Math.min(RETRY_MAX_MS, delay * 2));
      this.schedule(instance, delay);
    }
  }

  /**
   * max_batch_size of every READY model: kept while the model's READY versions stay the
   * same, read again from the instance when they change (a reload may change the config).
   */
  private async batchSizes(instance: TritonInstance, previous: ReadonlyMap<string, ReadonlySet<string>>, readyModels: ReadonlyMap<string, ReadonlySet<string>>): Promise<Map<string, number>> {
    const sizes = new Map<string, number>();
    await Promise.all([...readyModels.entries()].map(async ([model, versions]) => {
      const known = sameVersions(previous.get(model), versions) ? instance.maxBatchSizes.get(model) : undefined;
      sizes.set(model, known ?? await probeMaxBatchSize(instance.client, model, this.options.probeTimeoutMs).catch(() => 0));
    }));
    return sizes;
  }

  /**
   * max_batch_size of a model on the instances that serve it (0: unknown or no batching):
   * with it the proxy counts a request's inferences (its batch dimension).
   */
  maxBatchSize(model: string): number {
    for (const instance of this.instances.values()) {
      const size = instance.maxBatchSizes.get(model);
      if (size !== undefined) return size;
    }
    return 0;
  }

  private eject(instance: TritonInstance, reason: string): void {
    instance.lastError = reason;
    if (instance.health !== 'ejected') {
      this.options.logger.warn({ instance: instance.address, reason }, 'instance ejected');
    }
    instance.health = 'ejected';
    instance.serverReady = false;
  }

  private schedule(instance: TritonInstance, delayMs: number): void {
    if (this.stopped) return;
    const existing = this.timers.get(instance.address);
    if (existing !== undefined) clearTimeout(existing);
    this.timers.set(instance.address, setTimeout(() => { void this.probe(instance); }, delayMs));
  }

  private async discover(): Promise<void> {
    const targets = this.options.targets;
    const addresses = targets.kind === 'static'
      ? targets.addresses
      : await (this.options.resolve ?? resolveAddresses)(targets.name, targets.port).catch((error: unknown) => {
        this.options.logger.warn({ name: targets.name, reason: (error as Error).message }, 'DNS lookup of Triton instances failed; keeping the current set');
        return [...this.instances.keys()];
      });
    const wanted = new Set(addresses);
    for (const [address, instance] of this.instances) {
      if (wanted.has(address)) continue;
      const timer = this.timers.get(address);
      if (timer !== undefined) clearTimeout(timer);
      this.timers.delete(address);
      this.probesStarted.delete(address);
      this.probesApplied.delete(address);
      this.instances.delete(address);
      instance.close();
      this.options.logger.info({ instance: address }, 'instance removed');
    }
    for (const address of addresses) {
      if (this.instances.has(address)) continue;
      this.instances.set(address, new TritonInstance(address, this.options.maxMessageBytes, this.options.logger));
      this.options.logger.info({ instance: address }, 'instance added');
    }
  }

  private scheduleDns(): void {
    if (this.stopped) return;
    this.dnsTimer = setTimeout(() => {
      void this.discover().then(() => {
        for (const instance of this.instances.values()) if (instance.health === 'unknown' && !this.timers.has(instance.address)) void this.probe(instance);
        this.scheduleDns();
      });
    }, this.options.dnsRefreshMs);
  }
}

function sameVersions(a: ReadonlySet<string> | undefined, b: ReadonlySet<string>): boolean {
  if (a === undefined || a.size !== b.size) return false;
  for (const version of a) if (!b.has(version)) return false;
  return true;
}
