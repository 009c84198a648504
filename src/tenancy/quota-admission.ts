import { TriageError } from '../errors/triage-error';
import type { Logger } from '../observability/logger';
import type { RedisClient } from '../redis/redis-client';
import type { RedisKeys } from '../redis/redis-keys';
import { pipelinesBySlot } from '../redis/slot-batches';
import { AdmissionCredits } from './admission-credits';
import { defineTenancyScripts, type TenancyScripts } from './lua-scripts';
import { calendarPeriods, checkArgs, checksFor, leaseKeysOf, type QuotaCheck } from './quota-checks';
import type { TenantQuotas } from './quota-config';
import { QuotaRefusal, type RateFigures } from './quota-refusal';

export type FailureMode = 'open' | 'closed';

/** What each kind of limit does when Redis cannot be reached. */
export interface RedisDownPolicy {
  readonly rate: FailureMode;
  readonly concurrency: FailureMode;
  readonly budget: FailureMode;
}

export interface QuotaAdmissionOptions {
  readonly leaseTtlMs: number;
  readonly redisDown: RedisDownPolicy;
  /** Unique per process: lease members are `<processId>:<n>`. */
  readonly processId: string;
  readonly logger: Logger;
  readonly nowMs?: () => number;
  /**
   * How long a credit of admissions taken in advance may be spent (AdmissionCredits): while
   * a busy tenant is far from its limits, its requests are admitted without a round trip.
   * 0 or absent: every request goes to Redis.
   */
  readonly creditMs?: number;
}

/** An admitted request. `release` frees its concurrency leases; call it exactly once, when the call ends. */
export interface Admission {
  readonly rate: RateFigures | null;
  release(): void;
}

/** Admissions and script calls of one process since it started (triage_quota_admissions_total, triage_quota_script_calls_total). */
export interface AdmissionCounts {
  /** Requests admitted in the process, from a credit. */
  readonly fromCredit: number;
  /** Requests admitted by the admission script, each decided on its own. */
  readonly byRedis: number;
  /** admit.lua calls (each decides one or more requests). */
  readonly admitCalls: number;
  /** credit.lua calls (asking for a credit and giving back what was not spent). */
  readonly creditCalls: number;
}

/** How long after a refusal the tenant's calls (for that model) are admitted before an instance is contacted. */
const REFUSAL_MEMORY_MS = 1000;
/** Longest a finished call's concurrency slot waits to be given back in Redis. */
const RELEASE_DELAY_MS = 2;

interface PendingAdmission {
  readonly member: string;
  readonly inferences: number;
  resolve(admission: Admission): void;
  reject(error: Error): void;
}

const NOTHING_HELD: Admission = { rate: null, release: () => undefined };
const KIND_OF: Readonly<Record<QuotaCheck['kind'], keyof RedisDownPolicy>> = { g: 'rate', c: 'concurrency', b: 'budget' };

/**
 * Quota admission: every dimension of a request (rates, concurrency, budgets; the
 * tenant's and the tenant's for the model) is checked and consumed by one Lua script in
 * one Redis round trip (shared by the tenant's requests that came while its previous
 * script call was on its way), atomically across any number of proxy processes. Concurrency is a lease in a sorted set with an expiry: a crashed proxy's
 * leases expire and never lock a tenant out; leases of calls still running are renewed
 * every leaseTtlMs/3.
 */
export class QuotaAdmission {
  private readonly scripts: TenancyScripts;
  private readonly held = new Map<string, Set<string>>();
  /** Requests waiting for this turn's script call, by their (shared) list of checks. */
  private readonly batches = new Map<readonly QuotaCheck[], PendingAdmission[]>();
  /** When a request with this list of checks was last refused (a limit, or Redis unreachable and failing closed), ms. */
  private readonly lastRefusalMs = new WeakMap<readonly QuotaCheck[], number>();
  /** Lists of checks with a script call awaiting its reply: at most one each (the next batch waits for it). */
  private readonly inFlight = new Set<readonly QuotaCheck[]>();
  /** Script calls on their way, by the lease key they carry releases for. */
  private readonly leaseKeysInFlight = new Map<string, number>();
  /** Check lists by quotas document (dropped with it when the cache lets it go), then tenant, model and day. */
  private readonly checkCache = new WeakMap<TenantQuotas, Map<string, QuotaCheck[]>>();
  /** Lease members of finished calls not yet removed in Redis, by lease key. */
  private readonly releases = new Map<string, string[]>();
  private releaseTimer: NodeJS.Timeout | null = null;
  private sequence = 0;
  private admittedByRedis = 0;
  private admitCalls = 0;
  private renewTimer: NodeJS.Timeout | null = null;
  private lastDownLogMs = 0;
  private readonly nowMs: () => number;
  private readonly credits: AdmissionCredits;

  constructor(private readonly redis: RedisClient, private readonly keys: RedisKeys, private readonly options: QuotaAdmissionOptions) {
    this.scripts = defineTenancyScripts(redis);
    this.nowMs = options.nowMs ?? Date.now;
    this.credits = new AdmissionCredits({
      creditMs: options.creditMs ?? 0,
      leaseTtlMs: options.leaseTtlMs,
      processId: options.processId,
      nowMs: this.nowMs,
      credit: (keys, args) => this.scripts.credit(keys, args),
      hold: (key, member) => this.hold(key, member),
      release: (keys, member) => this.releaseLeases(keys, member),
      refusedLately: (checks) => {
        const refusedAt = this.lastRefusalMs.get(checks);
        return refusedAt !== undefined && this.nowMs() - refusedAt < REFUSAL_MEMORY_MS;
      },
    });
  }

  start(): void {
    const every = Math.max(100, Math.floor(this.options.leaseTtlMs / 3));
    this.renewTimer = setInterval(() => this.renew(), every);
  }

  counts(): AdmissionCounts {
    return { fromCredit: this.credits.admittedFromCredit, byRedis: this.admittedByRedis, admitCalls: this.admitCalls, creditCalls: this.credits.creditCalls };
  }

  /** Stops renewing; gives back credits (once their calls on the way land) and every finished call's slot. */
  async stop(): Promise<void> {
    if (this.renewTimer !== null) clearInterval(this.renewTimer);
    this.renewTimer = null;
    await this.credits.stop();
    this.flushReleases(false);
  }

  /**
   * Admits a request of `inferences` rows and `requestBytes` bytes for `model`, or throws
   * a QuotaRefusal (rate, concurrency, budget, size) or UNAVAILABLE (Redis down and a
   * limit configured to fail closed). Costs nothing when the tenant has no limits.
   * A request goes to Redis at once when no script call of its tenant and model is on its
   * way; else it waits for that call to land, and every request that came meanwhile shares
   * the next script call (no wait when idle, few round trips under load: at most one call
   * per tenant and model on its way). Each still gets its own answer, in arrival order.
   */
  admit(tenantId: string, quotas: TenantQuotas, model: string, inferences: number, requestBytes: number): Admission | Promise<Admission> {
    return this.admitChecks(this.checksOf(tenantId, quotas, model), tenantId, quotas, model, inferences, requestBytes);
  }

  /**
   * admit, and whether the call may go to its instance while Redis decides (CallTarget.gate),
   * from one look-up of the tenant's checks. It may when nothing of this tenant and model is
   * on its way to Redis or waiting to go (the call is sent at once: relaying meanwhile saves
   * a hop; under load calls share script calls instead, and the relay's extra write would
   * cost more CPU than it saves), and when none of its requests was refused in this process
   * within REFUSAL_MEMORY_MS, by a limit or because Redis could not be reached (a client
   * pressing against its limits, or an outage, must not reach the instances).
   */
  admitRelaying(tenantId: string, quotas: TenantQuotas, model: string, inferences: number, requestBytes: number):
    { readonly admission: Admission | Promise<Admission>; readonly relay: boolean } {
    const checks = this.checksOf(tenantId, quotas, model);
    const refusedAt = this.lastRefusalMs.get(checks);
    const relay = !this.inFlight.has(checks) && !this.batches.has(checks) && (refusedAt === undefined || this.nowMs() - refusedAt >= REFUSAL_MEMORY_MS);
    return { admission: this.admitChecks(checks, tenantId, quotas, model, inferences, requestBytes), relay };
  }

  private admitChecks(checks: QuotaCheck[], tenantId: string, quotas: TenantQuotas, model: string, inferences: number, requestBytes: number): Admission | Promise<Admission> {
    checkSize(tenantId, quotas, model, requestBytes);
    if (checks.length === 0) return NOTHING_HELD;
    for (const check of checks) {
      if (check.kind === 'g' && check.quantity === 'inferences' && inferences * check.a > check.b) {
        throw new QuotaRefusal(check.field, `request of ${inferences} inferences can never fit ${check.name} (burst ${Math.round(check.b / check.a)}): split it`, null, null, true);
      }
    }
    // A busy tenant far from its limits: admitted from this process's credit, no round trip.
    const credited = this.credits.take(checks, inferences);
    if (credited !== null) return credited;
    return new Promise<Admission>((resolve, reject) => {
      const member = `${this.options.processId}:${++this.sequence}`;
      const batch = this.batches.get(checks);
      if (batch !== undefined) {
        batch.push({ member, inferences, resolve, reject });
      } else {
        this.batches.set(checks, [{ member, inferences, resolve, reject }]);
        // Nothing of this tenant and model on its way to Redis: sent at once (waiting for the end
        // of the event-loop turn measured slower at concurrency 1). Else it goes when that call
        // lands, with every request that came meanwhile.
        if (!this.inFlight.has(checks)) this.sendBatch(checks);
      }
    });
  }

  /** The checks of a tenant and model today, built once per quotas document, model and day. */
  private checksOf(tenantId: string, quotas: TenantQuotas, model: string): QuotaCheck[] {
    const now = this.nowMs();
    const { day } = calendarPeriods(now);
    let byModel = this.checkCache.get(quotas);
    if (byModel === undefined) {
      byModel = new Map();
      this.checkCache.set(quotas, byModel);
    }
    const cacheKey = `${tenantId}\u0000${model}\u0000${day}`;
    let checks = byModel.get(cacheKey);
    if (checks === undefined) {
      checks = checksFor(quotas, this.keys.admission(tenantId, null), `tenant ${tenantId}`, now);
      const modelLimits = quotas.models?.[model];
      if (modelLimits !== undefined) checks.push(...checksFor(modelLimits, this.keys.admission(tenantId, model), `tenant ${tenantId} for model ${model}`, now));
      if (byModel.size > 1000) byModel.clear();
      byModel.set(cacheKey, checks);
    }
    return checks;
  }

  private sendBatch(checks: readonly QuotaCheck[]): void {
    const batch = this.batches.get(checks);
    if (batch === undefined || this.inFlight.has(checks)) return;
    this.batches.delete(checks);
    const args = checkArgs(this.options.leaseTtlMs, checks);
    // Finished calls of this tenant give back their slots in this same round trip.
    const leaseKey = checks.find((check) => check.kind === 'c')?.key;
    const piggyback = leaseKey === undefined ? undefined : this.releases.get(leaseKey);
    if (leaseKey !== undefined && piggyback !== undefined) {
      this.releases.delete(leaseKey);
      args.push(piggyback.length);
      for (const member of piggyback) args.push(member);
    } else {
      args.push(0);
    }
    args.push(batch.length);
    for (const pending of batch) args.push(pending.member, pending.inferences);
    this.inFlight.add(checks);
    if (leaseKey !== undefined) this.leaseKeysInFlight.set(leaseKey, (this.leaseKeysInFlight.get(leaseKey) ?? 0) + 1);
    const landed = (): void => {
      this.inFlight.delete(checks);
      if (leaseKey !== undefined) {
        const left = (this.leaseKeysInFlight.get(leaseKey) ?? 1) - 1;
        if (left > 0) this.leaseKeysInFlight.set(leaseKey, left);
        else this.leaseKeysInFlight.delete(leaseKey);
      }
      if (this.batches.has(checks)) this.sendBatch(checks);
    };
    let call: Promise<number[]>;
    this.admitCalls += 1;
    try {
      call = this.scripts.admit(checks.map((check) => check.key), args);
    } catch (error) {
      // A call that cannot even be made fails like one Redis refused (and `landed` still runs).
      call = Promise.reject(error instanceof Error ? error : new Error(String(error)));
    }
    call.finally(landed).then(
      (reply) => batch.forEach((pending, index) => {
        try {
          pending.resolve(this.outcome(reply.slice(index * 5, index * 5 + 5), checks, pending.member));
        } catch (error) {
          this.refused(checks);
          pending.reject(error as Error);
        }
      }),
      (error: unknown) => batch.forEach((pending) => {
        try {
          pending.resolve(this.whenRedisDown(error, checks));
        } catch (refusal) {
          this.refused(checks);
          pending.reject(refusal as Error);
        }
      }),
    );
  }

  /** A request with these checks was refused: remembered a while, and this process's credit for them given back. */
  private refused(checks: readonly QuotaCheck[]): void {
    this.lastRefusalMs.set(checks, this.nowMs());
    this.credits.forget(checks);
  }

  private outcome(reply: number[], checks: readonly QuotaCheck[], member: string): Admission {
    const [index = 0, a = -1, b = -1, c = -1, d = -1] = reply;
    if (index === 0) {
      this.admittedByRedis += 1;
      const leaseKeys = leaseKeysOf(checks);
      for (const key of leaseKeys) this.hold(key, member);
      let released = false;
      return {
        rate: a >= 0 ? { limit: a, remaining: b, resetMs: c } : null,
        release: () => {
          if (released || leaseKeys.length === 0) return;
          released = true;
          this.releaseLeases(leaseKeys, member);
        },
      };
    }
    const check = checks[index - 1] as QuotaCheck;
    if (check.kind === 'b') {
      throw new QuotaRefusal(check.field, `${check.name} (${check.value}) is used up; it renews with the next ${check.period ?? 'day'} (UTC)`, null, { limit: b, remaining: c, resetMs: -1 }, true);
    }
    const what = check.kind === 'c' ? `${check.name} (${check.value}) reached` : `${check.name} (${check.value}/s) exceeded`;
    throw new QuotaRefusal(check.field, `${what}; retry in ${a} ms`, a, { limit: b, remaining: c, resetMs: d }, false);
  }

  private whenRedisDown(error: unknown, checks: readonly QuotaCheck[]): Admission {
    const closed = [...new Set(checks.map((check) => KIND_OF[check.kind]))].filter((kind) => this.options.redisDown[kind] === 'closed');
    const reason = (error as Error).message;
    if (this.nowMs() - this.lastDownLogMs > 5000) {
      this.lastDownLogMs = this.nowMs();
      this.options.logger.warn({ reason, failClosed: closed }, 'quota store (Redis) unreachable');
    }
    if (closed.length > 0) {
      throw new TriageError('UNAVAILABLE', `quota store (Redis) unreachable (${reason}); ${closed.join(' and ')} limits fail closed (--quota-redis-down)`);
    }
    return NOTHING_HELD;
  }

  private hold(key: string, member: string): void {
    let members = this.held.get(key);
    if (members === undefined) {
      members = new Set();
      this.held.set(key, members);
    }
    members.add(member);
  }

  /**
   * A finished call's leases are removed by the tenant's next admission (no round trip of
   * their own) or, when none goes within RELEASE_DELAY_MS and none of the tenant's script
   * calls is on its way (the batch sent when it lands would carry them), by one ZREM per
   * lease key. A lost release only holds the slot until the lease expires.
   */
  private releaseLeases(keys: readonly string[], member: string): void {
    for (const key of keys) {
      const members = this.held.get(key);
      members?.delete(member);
      if (members?.size === 0) this.held.delete(key);
      const pending = this.releases.get(key);
      if (pending === undefined) this.releases.set(key, [member]);
      else pending.push(member);
    }
    this.releaseTimer ??= setTimeout(() => this.flushReleases(true), RELEASE_DELAY_MS);
  }

  /** Sends the pending releases; with `waitForCalls`, those of a tenant with a script call on its way wait for it to land. */
  private flushReleases(waitForCalls: boolean): void {
    if (this.releaseTimer !== null) clearTimeout(this.releaseTimer);
    this.releaseTimer = null;
    if (this.releases.size === 0) return;
    // Lease keys of many tenants: one pipeline per node under Redis Cluster.
    const pipeline = pipelinesBySlot(this.redis);
    let sent = false;
    for (const [key, members] of this.releases) {
      // The batch sent when that call lands carries them; if none is, the timer comes back.
      if (waitForCalls && this.leaseKeysInFlight.has(key)) continue;
      pipeline.on(key).zrem(key, ...members);
      this.releases.delete(key);
      sent = true;
    }
    if (sent) void pipeline.exec();
    if (this.releases.size > 0) this.releaseTimer = setTimeout(() => this.flushReleases(true), RELEASE_DELAY_MS);
  }

  private renew(): void {
    for (const [key, members] of this.held) {
      if (members.size === 0) continue;
      this.scripts.renewLeases(key, this.options.leaseTtlMs, [...members]).catch(() => undefined);
    }
  }
}

function checkSize(tenantId: string, quotas: TenantQuotas, model: string, requestBytes: number): void {
  const limits = [quotas.max_request_bytes, quotas.models?.[model]?.max_request_bytes].filter((limit): limit is number => typeof limit === 'number');
  for (const limit of limits) {
    if (requestBytes > limit) throw new QuotaRefusal('max_request_bytes', `request of ${requestBytes} bytes exceeds max_request_bytes (${limit}) of tenant ${tenantId}`, null, null, true);
  }
}
