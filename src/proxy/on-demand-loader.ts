import { performance } from 'node:perf_hooks';
import { TriageError } from '../errors/triage-error';
import type { Logger } from '../observability/logger';
import type { InstancePool } from '../triton/instance-pool';

export interface OnDemandLoaderOptions {
  readonly pool: Pick<InstancePool, 'list' | 'candidates' | 'probeNow'>;
  /** Whether the registry says the model is deployed (cached: see DeployedModels). */
  readonly isDeployed: (model: string) => Promise<boolean>;
  /** Records the demand: the model counts as used now, written at once, and the controller is told. */
  readonly demand: (model: string) => Promise<void>;
  /** How long a call waits at most, ms (> 0). */
  readonly timeoutMs: number;
  /** How often the instances are probed while a call waits, ms. */
  readonly pollMs: number;
  readonly logger: Logger;
}

interface Waiter {
  readonly resolve: () => void;
  readonly reject: (error: TriageError) => void;
  readonly timer: NodeJS.Timeout;
}

interface ModelWait {
  readonly waiters: Set<Waiter>;
  readonly startedMs: number;
}

/**
 * On-demand loading, the proxy's side: an inference for a deployed model that no live
 * instance holds records the demand (RecencyRecorder.demand: the controller then loads
 * the model, evicting the least recently used if room is short) and waits until an
 * instance reports the model READY, probing the instances every pollMs meanwhile.
 * Concurrent calls for one model share one demand and one wait; each call waits up to
 * timeoutMs from its own arrival, and never past its own deadline.
 *
 * Invariants: each waiting call is settled exactly once (READY, its timeout, or stop());
 * at most one probe round runs at a time, and none once nothing waits.
 */
export class OnDemandLoader {
  private readonly waits = new Map<string, ModelWait>();
  private pollTimer: NodeJS.Timeout | null = null;
  private probing: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: OnDemandLoaderOptions) {}

  /**
   * For a model no live instance holds: false when the registry does not say it is
   * deployed (not registered, unmanaged, or undeployed: the caller keeps its own answer);
   * true once an instance holds it READY. Rejects with UNAVAILABLE after timeoutMs, or
   * with DEADLINE_EXCEEDED when the call's deadline (ms since the epoch; Infinity: none)
   * comes first.
   */
  async awaitLoaded(model: string, deadlineMs: number): Promise<boolean> {
    if (!await this.options.isDeployed(model)) return false;
    if (this.held(model)) return true;
    if (this.stopped) throw new TriageError('UNAVAILABLE', `model '${model}' is not loaded and triage is shutting down`);
    const remainingMs = deadlineMs - Date.now();
    const byDeadline = remainingMs < this.options.timeoutMs;
    return new Promise<boolean>((resolve, reject) => {
      let wait = this.waits.get(model);
      if (wait === undefined) {
        wait = { waiters: new Set(), startedMs: performance.now() };
        this.waits.set(model, wait);
        this.options.logger.info({ model }, 'on-demand load: a call waits for a model no instance holds');
        this.options.demand(model).catch((error: unknown) => {
          this.options.logger.warn({ model, reason: (error as Error).message }, 'on-demand load: the demand could not be announced; the controller sees it at its next pass');
        });
      }
      const waiters = wait.waiters;
      const waiter: Waiter = {
        resolve: () => resolve(true),
        reject,
        timer: setTimeout(() => {
          waiters.delete(waiter);
          if (waiters.size === 0 && this.waits.get(model)?.waiters === waiters) this.waits.delete(model);
          reject(byDeadline ? deadlinePassed(model) : notReadyInTime(model, this.options.timeoutMs));
        }, Math.max(0, Math.min(this.options.timeoutMs, remainingMs))),
      };
      waiters.add(waiter);
      this.schedulePoll();
    });
  }

  /** Settles every waiting call with UNAVAILABLE and stops probing. Idempotent. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.pollTimer !== null) clearTimeout(this.pollTimer);
    this.pollTimer = null;
    for (const [model, wait] of this.waits) {
      for (const waiter of wait.waiters) {
        clearTimeout(waiter.timer);
        waiter.reject(new TriageError('UNAVAILABLE', `model '${model}' was being loaded on demand when triage began shutting down; retry`));
      }
    }
    this.waits.clear();
    await this.probing;
  }

  private held(model: string): boolean {
    return this.options.pool.candidates(model, '').length > 0;
  }

  private schedulePoll(): void {
    if (this.pollTimer !== null || this.probing !== null || this.waits.size === 0 || this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.pollTimer = null;
      this.probing = this.probeRound().finally(() => {
        this.probing = null;
        this.schedulePoll();
      });
    }, this.options.pollMs);
  }

  /** Probes every live instance once (probeNow never rejects), then releases the calls whose model is READY somewhere. */
  private async probeRound(): Promise<void> {
    const { pool } = this.options;
    await Promise.all(pool.list().filter((instance) => instance.isRoutable()).map((instance) => pool.probeNow(instance.address)));
    for (const [model, wait] of this.waits) {
      if (!this.held(model)) continue;
      this.waits.delete(model);
      this.options.logger.info({ model, calls: wait.waiters.size, waitedMs: Math.round(performance.now() - wait.startedMs) }, 'on-demand load: the model is READY');
      for (const waiter of wait.waiters) {
        clearTimeout(waiter.timer);
        waiter.resolve();
      }
    }
  }
}

function notReadyInTime(model: string, timeoutMs: number): TriageError {
  return new TriageError('UNAVAILABLE', `model '${model}' is being loaded on demand and was not ready within ${timeoutMs} ms; retry`);
}

function deadlinePassed(model: string): TriageError {
  return new TriageError('DEADLINE_EXCEEDED', `model '${model}' is being loaded on demand and was not ready before the call's deadline`);
}
