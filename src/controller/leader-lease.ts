import { performance } from 'node:perf_hooks';
import type { RedisClient } from '../redis/redis-client';
import type { Logger } from '../observability/logger';
import { defineLeaseScripts, type LeaseScripts } from './lease-scripts';

export interface LeaderLeaseOptions {
  /** The lease key (RedisKeys.controllerLease()). */
  readonly key: string;
  /** Unique per process: the lease's value. */
  readonly owner: string;
  readonly ttlMs: number;
  readonly logger: Logger;
  /** Monotonic clock, ms (tests may replace it). */
  readonly now?: () => number;
}

export interface LeadershipListener {
  /** This process leads from now on. */
  onAcquired(): void;
  /** This process stopped leading (lease lost, expired, or released). */
  onLost(reason: string): void;
}

/**
 * One leader among any number of processes, through one Redis key: SET NX PX takes it,
 * the holder renews it every ttl/3 (compare owner, PEXPIRE) and releases it on stop
 * (compare, DEL). A standby retries when the current lease should have expired, so it
 * takes over within the TTL after a leader dies without releasing.
 *
 * Invariant: this process believes it leads only until `sent + ttl`, where `sent` is
 * when the last successful acquire or renew was sent. Redis counts the expiry from when
 * it received that command (later), so the belief always ends no later than the key
 * does: two processes never both believe they lead (clock rates being equal). A renew
 * that finds the lease gone, or no successful renew before that deadline (Redis
 * unreachable), ends the leadership at once.
 */
export class LeaderLease {
  private readonly scripts: LeaseScripts;
  private readonly now: () => number;
  private leading = false;
  private validUntilMs = 0;
  private attemptTimer: NodeJS.Timeout | null = null;
  private expiryTimer: NodeJS.Timeout | null = null;
  private attempting: Promise<void> | null = null;
  private started = false;
  private stopped = false;
  private lastError = '';

  constructor(redis: RedisClient, private readonly options: LeaderLeaseOptions, private readonly listener: LeadershipListener) {
    this.scripts = defineLeaseScripts(redis);
    this.now = options.now ?? (() => performance.now());
  }

  /** Starts competing for the lease (the first attempt runs at once). */
  start(): void {
    if (this.started || this.stopped) return;
    this.started = true;
    this.schedule(0);
  }

  isLeader(): boolean {
    return this.leading && this.now() < this.validUntilMs;
  }

  /** Stops competing; a leader stops leading and releases the lease. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clearTimers();
    await this.attempting;
    if (!this.leading) return;
    this.lose('stopped');
    try {
      await this.scripts.release(this.options.key, this.options.owner);
    } catch (error) {
      this.options.logger.warn({ reason: (error as Error).message }, 'could not release the controller lease: it expires on its own');
    }
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.attemptTimer !== null) clearTimeout(this.attemptTimer);
    this.attemptTimer = setTimeout(() => {
      this.attemptTimer = null;
      this.attempting = this.attempt().finally(() => { this.attempting = null; });
    }, Math.max(0, Math.round(delayMs)));
  }

  private async attempt(): Promise<void> {
    const period = this.options.ttlMs / 3;
    const sentMs = this.now();
    try {
      if (this.leading) {
        const renewed = await this.scripts.renew(this.options.key, this.options.owner, this.options.ttlMs);
        if (this.stopped || !this.leading) return;
        this.lastError = '';
        if (renewed === 1) {
          this.extend(sentMs);
          this.schedule(period);
        } else {
          this.lose('the lease was taken over or expired');
          this.schedule(period);
        }
        return;
      }
      const remainingMs = await this.scripts.acquire(this.options.key, this.options.owner, this.options.ttlMs);
      if (this.stopped) {
        if (remainingMs === -1) await this.scripts.release(this.options.key, this.options.owner).catch(() => 0);
        return;
      }
      this.lastError = '';
      if (remainingMs === -1) {
        this.leading = true;
        this.extend(sentMs);
        this.options.logger.info({ ttlMs: this.options.ttlMs }, 'controller: leading');
        this.listener.onAcquired();
        this.schedule(period);
      } else {
        // Try again right when the holder's lease would expire (a dead leader's does), at least every ttl/3.
        this.schedule(Math.min(period, remainingMs + 1));
      }
    } catch (error) {
      const reason = (error as Error).message;
      if (reason !== this.lastError) this.options.logger.warn({ reason, leading: this.leading }, 'controller lease: Redis call failed');
      this.lastError = reason;
      // A leader keeps leading until its deadline (the expiry timer), and keeps trying to renew before it.
      this.schedule(this.leading ? Math.min(period, Math.max(50, (this.validUntilMs - this.now()) / 2)) : period);
    }
  }

  private extend(sentMs: number): void {
    this.validUntilMs = sentMs + this.options.ttlMs;
    this.armExpiry();
  }

  private armExpiry(): void {
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = setTimeout(() => {
      this.expiryTimer = null;
      if (!this.leading) return;
      if (this.now() < this.validUntilMs) {
        this.armExpiry(); // woke early
        return;
      }
      this.lose('the lease could not be renewed before it expired');
      this.schedule(0);
    }, Math.max(1, Math.ceil(this.validUntilMs - this.now())));
  }

  private lose(reason: string): void {
    if (!this.leading) return;
    this.leading = false;
    this.validUntilMs = 0;
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.expiryTimer = null;
    this.options.logger.warn({ reason }, 'controller: no longer leading');
    this.listener.onLost(reason);
  }

  private clearTimers(): void {
    if (this.attemptTimer !== null) clearTimeout(this.attemptTimer);
    if (this.expiryTimer !== null) clearTimeout(this.expiryTimer);
    this.attemptTimer = null;
    this.expiryTimer = null;
  }
}
