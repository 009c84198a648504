import type { Admission } from './quota-admission';
import { checkArgs, leaseKeysOf, type QuotaCheck } from './quota-checks';
import type { RateFigures } from './quota-refusal';

export interface AdmissionCreditsOptions {
  /** How long a credit's units may be spent after Redis granted them; 0 turns credits off. */
  readonly creditMs: number;
  readonly leaseTtlMs: number;
  /** Unique per process: slot members are `<processId>:s<n>`. */
  readonly processId: string;
  readonly nowMs: () => number;
  /** Runs lua/credit.lua. */
  credit(keys: readonly string[], args: readonly (string | number)[]): Promise<number[]>;
  /** Keeps a slot's lease renewed while the process holds it. */
  hold(leaseKey: string, member: string): void;
  /** Gives a slot back (its lease removed in Redis soon, its renewal stopped). */
  release(leaseKeys: readonly string[], member: string): void;
  /** Whether a request with these checks was refused lately (no credit is asked for then). */
  refusedLately(checks: readonly QuotaCheck[]): boolean;
}

/** Fewest requests in one credit period before this process asks for credits. */
const MIN_DEMAND = 8;
/** After a denied or failed credit call, how many credit periods pass before the next. */
const BACKOFF_PERIODS = 10;

/** One tenant's (and model's) credit in this process. */
interface Pool {
  readonly checks: readonly QuotaCheck[];
  readonly leaseKeys: readonly string[];
  /** Units of the current credit left; they may be spent until takenAtMs + creditMs. */
  requests: number;
  inferences: number;
  granted: number;
  takenAtMs: number;
  rate: RateFigures | null;
  /**
   * Slots the pool holds (leases in Redis under this process's members, renewed); free ones
   * are in use by no call. A busy slot no longer in `slots` goes back when its call ends.
   */
  readonly slots: Set<string>;
  readonly freeSlots: string[];
  /** Units of expired or replaced credits, given back with the next credit call. */
  backRequests: number;
  backInferences: number;
  /** Demand in the current and the last credit period: requests, their inferences, most calls at once. */
  windowStartMs: number;
  windowRequests: number;
  windowInferences: number;
  lastRequests: number;
  lastInferences: number;
  busy: number;
  peakBusy: number;
  lastPeakBusy: number;
  lastUseMs: number;
  asking: boolean;
  quietUntilMs: number;
}

/**
 * Admission credits: while a tenant is far from every limit, a process busy with its
 * requests takes admissions from Redis in advance (lua/credit.lua: at most half of what a
 * rate's bucket holds and a tenth of a budget's rest; idle concurrency slots up to half the
 * tenant's free room, none when less than a quarter of the limit is free) and admits those
 * requests itself, with no round trip on their way. A credit's units are spent within
 * creditMs of the call that took them, or given back; its slots are concurrency leases
 * held (and renewed) under this process's members, so a crash frees them when they expire.
 *
 * Invariants: a request admitted from a credit consumed units Redis had granted, on every
 * check, and holds a slot Redis counts, so no limit admits more across processes than it
 * would request by request (a rate's units may be spent up to creditMs after they were
 * taken); units not spent go back, so budgets count what ran. Idle slots are re-weighed at
 * every credit call and given back when the credit lapses, when a request of the tenant
 * goes to Redis on its own, and when one is refused. Near a limit Redis grants nothing and
 * every request goes to Redis on its own, where refusals are exact.
 */
export class AdmissionCredits {
  private readonly pools = new Map<readonly QuotaCheck[], Pool>();
  /** Credit calls awaiting their reply (stop waits for them). */
  private readonly calls = new Set<Promise<unknown>>();
  private sweepTimer: NodeJS.Timeout | null = null;
  private sequence = 0;
  /** Requests admitted from credits, and credit calls sent, since the start (for metrics). */
  admittedFromCredit = 0;
  creditCalls = 0;

  constructor(private readonly options: AdmissionCreditsOptions) {}

  get enabled(): boolean {
    return this.options.creditMs > 0;
  }

  /**
   * Admits a request of `inferences` rows from this process's credit, or answers null (the
   * request then goes to Redis). Either way it counts as demand, which may ask for a credit.
   */
  take(checks: readonly QuotaCheck[], inferences: number): Admission | null {
    if (!this.enabled) return null;
    const now = this.options.nowMs();
    const pool = this.pools.get(checks) ?? this.newPool(checks, now);
    this.noteDemand(pool, inferences, now);
    if (pool.granted > 0 && now - pool.takenAtMs >= this.options.creditMs) this.expire(pool);
    let admitted: Admission | null = null;
    if (pool.requests >= 1 && pool.inferences >= inferences && (pool.leaseKeys.length === 0 || pool.freeSlots.length > 0)) {
      pool.requests -= 1;
      pool.inferences -= inferences;
      this.admittedFromCredit += 1;
      admitted = this.admitted(pool);
    } else {
      // This request goes to Redis on its own: the idle slots go back in that same call, first.
      this.releaseFreeSlots(pool, 0);
    }
    if (this.wantsCredit(pool, now)) this.ask(pool);
    return admitted;
  }

  /**
   * Forgets the credit of these checks (a request with them was just refused: the tenant is at
   * a limit): its units and free slots go back, so none of them sits idle while requests are refused.
   */
  forget(checks: readonly QuotaCheck[]): void {
    const pool = this.pools.get(checks);
    if (pool !== undefined) this.retire(pool);
  }

  /** Waits for the credit calls on their way, then gives back every credit (units and free slots); calls in flight give their slots back as they end. */
  async stop(): Promise<void> {
    if (this.sweepTimer !== null) clearInterval(this.sweepTimer);
    this.sweepTimer = null;
    await Promise.allSettled([...this.calls]);
    for (const pool of [...this.pools.values()]) this.retire(pool);
  }

  private newPool(checks: readonly QuotaCheck[], now: number): Pool {
    const pool: Pool = {
      checks,
      leaseKeys: leaseKeysOf(checks),
      requests: 0, inferences: 0, granted: 0, takenAtMs: now, rate: null,
      slots: new Set(), freeSlots: [],
      backRequests: 0, backInferences: 0,
      windowStartMs: now, windowRequests: 0, windowInferences: 0, lastRequests: 0, lastInferences: 0,
      busy: 0, peakBusy: 0, lastPeakBusy: 0, lastUseMs: now,
      asking: false, quietUntilMs: 0,
    };
    this.pools.set(checks, pool);
    this.sweepTimer ??= setInterval(() => this.sweep(), Math.max(20, this.options.creditMs));
    return pool;
  }

  private noteDemand(pool: Pool, inferences: number, now: number): void {
    if (now - pool.windowStartMs >= this.options.creditMs) {
      const periods = Math.floor((now - pool.windowStartMs) / this.options.creditMs);
      // A period with no request between leaves no demand behind.
      pool.lastRequests = periods === 1 ? pool.windowRequests : 0;
      pool.lastInferences = periods === 1 ? pool.windowInferences : 0;
      pool.lastPeakBusy = periods === 1 ? pool.peakBusy : 0;
      pool.windowStartMs = now;
      pool.windowRequests = 0;
      pool.windowInferences = 0;
      pool.peakBusy = pool.busy;
    }
    pool.windowRequests += 1;
    pool.windowInferences += inferences;
    pool.lastUseMs = now;
  }

  private admitted(pool: Pool): Admission {
    const slot = pool.leaseKeys.length === 0 ? null : pool.freeSlots.pop() as string;
    pool.busy += 1;
    if (pool.busy > pool.peakBusy) pool.peakBusy = pool.busy;
    let released = false;
    return {
      // The request rate's figures as Redis saw them at the grant.
      rate: pool.rate,
      release: () => {
        if (released) return;
        released = true;
        pool.busy -= 1;
        if (slot === null) return;
        if (pool.slots.has(slot) && this.pools.get(pool.checks) === pool) pool.freeSlots.push(slot);
        else this.options.release(pool.leaseKeys, slot);
      },
    };
  }

  private wantsCredit(pool: Pool, now: number): boolean {
    if (pool.asking || now < pool.quietUntilMs) return false;
    if (Math.max(pool.windowRequests, pool.lastRequests) < MIN_DEMAND) return false;
    if (this.options.refusedLately(pool.checks)) return false;
    const short = pool.requests < Math.max(1, pool.granted / 2) || now - pool.takenAtMs >= this.options.creditMs / 2;
    const slotsShort = pool.leaseKeys.length > 0 && pool.freeSlots.length === 0;
    return short || slotsShort;
  }

  /** Asks Redis for a credit sized to the last period's demand, giving back what is owed in the same call. */
  private ask(pool: Pool): void {
    const requests = Math.max(pool.windowRequests, pool.lastRequests);
    const inferences = Math.max(pool.windowInferences, pool.lastInferences);
    const askRequests = Math.ceil(requests * 1.5) + 2;
    const askInferences = Math.ceil(askRequests * Math.max(1, inferences / Math.max(1, requests)));
    const leased = pool.leaseKeys.length > 0;
    // Free slots wanted: the most calls at once lately, plus two, less those running now.
    const wantFree = Math.max(1, Math.max(pool.peakBusy, pool.lastPeakBusy) + 2 - pool.busy);
    const idle = pool.freeSlots.length;
    const newSlots: string[] = [];
    if (leased) {
      for (let n = idle; n < wantFree; n++) newSlots.push(`${this.options.processId}:s${++this.sequence}`);
    }
    pool.asking = true;
    const sentAtMs = this.options.nowMs();
    const call = this.send(pool, askRequests, askInferences, leased ? 1 : 0, idle, newSlots);
    this.calls.add(call);
    call.then((reply) => {
      pool.asking = false;
      const [grantedRequests = 0, grantedInferences = 0, grantedSlots = 0, keep = 0, limit = -1, remaining = -1, resetMs = -1] = reply;
      const live = this.pools.get(pool.checks) === pool;
      for (const slot of newSlots.slice(0, grantedSlots)) {
        this.holdSlot(pool, slot);
        pool.freeSlots.push(slot);
      }
      // Of the slots idle when the call went, the process gives back those Redis did not let it
      // keep (slots freed by calls since were counted as held there: re-weighed next call).
      this.releaseFreeSlots(pool, Math.max(0, pool.freeSlots.length - Math.max(0, idle - keep)));
      if (grantedRequests < 1) {
        pool.quietUntilMs = this.options.nowMs() + BACKOFF_PERIODS * this.options.creditMs;
        return;
      }
      // The units of the credit before go back; the new one replaces it.
      pool.backRequests += pool.requests;
      pool.backInferences += pool.inferences;
      pool.requests = grantedRequests;
      pool.inferences = grantedInferences;
      pool.granted = grantedRequests;
      pool.takenAtMs = sentAtMs;
      pool.rate = limit >= 0 ? { limit, remaining, resetMs } : null;
      if (!live) {
        // Retired while the call was on its way: all of it goes straight back.
        this.expire(pool);
        this.send(pool, 0, 0, 0, 0, []).catch(() => undefined);
      }
    }, () => {
      // Unknown whether Redis ran it: the units given back in it are not given again (a
      // budget may count them, never the reverse), the slots asked for expire unrenewed.
      pool.asking = false;
      pool.quietUntilMs = this.options.nowMs() + BACKOFF_PERIODS * this.options.creditMs;
    }).finally(() => this.calls.delete(call));
  }

  /** One credit call: gives back the pool's owed units, asks for more (possibly none). */
  private send(pool: Pool, askRequests: number, askInferences: number, minSlots: number, idle: number, newSlots: readonly string[]): Promise<number[]> {
    const args = checkArgs(this.options.leaseTtlMs, pool.checks);
    args.push(pool.backRequests, pool.backInferences, askRequests, askInferences, minSlots, idle, newSlots.length, ...newSlots);
    pool.backRequests = 0;
    pool.backInferences = 0;
    this.creditCalls += 1;
    try {
      return this.options.credit(pool.checks.map((check) => check.key), args);
    } catch (error) {
      return Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** A slot Redis granted: renewed while held; a retired pool gives it back at once. */
  private holdSlot(pool: Pool, slot: string): void {
    for (const key of pool.leaseKeys) this.options.hold(key, slot);
    pool.slots.add(slot);
  }

  /** Gives back free slots beyond `keep` (their leases removed with the tenant's next script call, or within 2 ms). */
  private releaseFreeSlots(pool: Pool, keep: number): void {
    while (pool.freeSlots.length > keep) {
      const slot = pool.freeSlots.pop() as string;
      pool.slots.delete(slot);
      this.options.release(pool.leaseKeys, slot);
    }
  }

  /** The current credit may no longer be spent: its units are owed back, its free slots go back now, its busy ones when their calls end. */
  private expire(pool: Pool): void {
    pool.backRequests += pool.requests;
    pool.backInferences += pool.inferences;
    pool.requests = 0;
    pool.inferences = 0;
    pool.granted = 0;
    this.releaseFreeSlots(pool, 0);
    pool.slots.clear();
  }

  private sweep(): void {
    const now = this.options.nowMs();
    for (const pool of this.pools.values()) {
      if (pool.granted > 0 && now - pool.takenAtMs >= this.options.creditMs) this.expire(pool);
      if (now - pool.lastUseMs >= 2 * this.options.creditMs && !pool.asking) this.retire(pool);
    }
    if (this.pools.size === 0 && this.sweepTimer !== null) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = null;
    }
  }

  /** Forgets an idle pool: its free slots go back now, busy ones when their calls end, its units in one call. */
  private retire(pool: Pool): void {
    this.pools.delete(pool.checks);
    this.expire(pool);
    if (pool.backRequests > 0 || pool.backInferences > 0) this.send(pool, 0, 0, 0, 0, []).catch(() => undefined);
  }
}
