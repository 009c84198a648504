import { AuditLog, DEFAULT_AUDIT_MAX_ENTRIES } from '../observability/audit-log';
import { AuditReader } from '../observability/audit-reader';
import type { Logger } from '../observability/logger';
import { closeRedisClient, createRedisClient, mastersOf, waitUntilReady, type RedisClient } from '../redis/redis-client';
import { RedisKeys } from '../redis/redis-keys';
import { Authenticator } from './authenticator';
import { InvalidationBus } from './invalidation-bus';
import { QuotaAdmission, type RedisDownPolicy } from './quota-admission';
import { TenancyService } from './tenancy-service';
import { TenancyStore } from './tenancy-store';
import { UsageMeter } from './usage-meter';

export interface TenancyOptions {
  readonly redisUrl: string;
  readonly redisPrefix: string;
  readonly adminKey: string;
  readonly leaseTtlMs: number;
  readonly redisDown: RedisDownPolicy;
  /** --quota-credit: how long a credit of admissions taken in advance may be spent (0: none). */
  readonly quotaCreditMs?: number;
  readonly keyCacheTtlMs: number;
  readonly usageFlushMs: number;
  /** Unique per process (lease members). */
  readonly processId: string;
  /** --audit-max-entries: the admin audit stream keeps about this many newest changes (default 1,000,000). */
  readonly auditMaxEntries?: number;
}

/** Tenants, keys, quotas and usage, wired to one Redis. */
export interface Tenancy {
  readonly authenticator: Authenticator;
  readonly admission: QuotaAdmission;
  readonly meter: UsageMeter;
  readonly service: TenancyService;
  /** The one admin audit log of the process, shared by every service that changes something (tenancy, registry, jobs). */
  readonly audit: AuditLog;
  /** Reads both audit streams (admin changes and inference metadata) for GET /v1/audit. */
  readonly auditReader: AuditReader;
  readonly redis: RedisClient;
  readonly keys: RedisKeys;
  /** Flushes usage, stops timers, closes both Redis connections. */
  stop(): Promise<void>;
}

const STARTUP_TIMEOUT_MS = 15_000;

/**
 * Connects to Redis (failing the start with a clear error when it cannot), checks its
 * eviction policy, subscribes to invalidations, and starts lease renewal and usage
 * flushing.
 */
export async function startTenancy(options: TenancyOptions, rootLogger: Logger): Promise<Tenancy> {
  const logger = rootLogger.child({ component: 'tenancy' });
  const redis = createRedisClient({ url: options.redisUrl, name: 'triage', failFast: true, commandTimeoutMs: 1000 });
  const subscriber = createRedisClient({ url: options.redisUrl, name: 'triage:invalidations', failFast: false });
  // ioredis reports connection errors as events; they are handled by the callers' error paths.
  redis.on('error', () => undefined);
  subscriber.on('error', () => undefined);
  try {
    await waitUntilReady(redis, STARTUP_TIMEOUT_MS);
    await warnUnlessNoEviction(redis, logger);
  } catch (error) {
    await Promise.all([closeRedisClient(redis), closeRedisClient(subscriber)]);
    throw new Error(`cannot use Redis at ${redactUrl(options.redisUrl)}: ${(error as Error).message}`);
  }
  const keys = new RedisKeys(options.redisPrefix);
  const store = new TenancyStore(redis, keys);
  const bus = new InvalidationBus(redis, subscriber, { channel: keys.invalidation(), versionKey: keys.invalidationVersion(), checkIntervalMs: 250 }, logger);
  const authenticator = new Authenticator(store, { adminKey: options.adminKey, cacheTtlMs: options.keyCacheTtlMs });
  await bus.start((message) => authenticator.invalidate(message), () => authenticator.clear());
  const admission = new QuotaAdmission(redis, keys, { leaseTtlMs: options.leaseTtlMs, redisDown: options.redisDown, processId: options.processId, logger, creditMs: options.quotaCreditMs ?? 0 });
  const meter = new UsageMeter(redis, keys, options.usageFlushMs, logger);
  admission.start();
  meter.start();
  const audit = new AuditLog(redis, keys.audit(), options.auditMaxEntries ?? DEFAULT_AUDIT_MAX_ENTRIES);
  const auditReader = new AuditReader(redis, { admin: keys.audit(), inference: keys.inferenceAudit() });
  const service = new TenancyService(store, bus, redis, keys, audit);
  return {
    authenticator,
    admission,
    meter,
    service,
    audit,
    auditReader,
    redis,
    keys,
    async stop() {
      bus.stop();
      await admission.stop();
      await meter.stop();
      await Promise.all([closeRedisClient(subscriber), closeRedisClient(redis)]);
    },
  };
}

async function warnUnlessNoEviction(redis: RedisClient, logger: Logger): Promise<void> {
  // Under Redis Cluster every master holds some of the keys: each is asked.
  await Promise.all(mastersOf(redis).map(async (server) => {
    try {
      const reply = (await server.config('GET', 'maxmemory-policy')) as string[];
      const policy = reply[1];
      if (policy !== undefined && policy !== 'noeviction') {
        logger.warn({ policy, node: `${server.options.host ?? ''}:${server.options.port ?? ''}` }, 'Redis maxmemory-policy is not noeviction: quota counters, leases and job queues may be evicted; set maxmemory-policy noeviction');
      }
    } catch {
      // CONFIG may be disabled (managed Redis); nothing to check then.
    }
  }));
}

/** The URL without its password, for messages. */
export function redactUrl(url: string): string {
  return url.replace(/\/\/([^:@/]*):[^@/]*@/, '//$1:***@');
}
