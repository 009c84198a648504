import { hostname } from 'node:os';
import { startTenancy } from '../src/tenancy/tenancy';
import { silentLogger } from '../src/observability/logger';

/** Quotas far above what the benchmark offers: every dimension is checked and consumed, none refuses. */
const GENEROUS_QUOTAS = {
  requests_per_second: 1_000_000,
  burst: 1_000_000,
  inferences_per_second: 1_000_000,
  inference_burst: 1_000_000,
  max_concurrent: 100_000,
  daily_requests: 1_000_000_000_000,
  monthly_inferences: 1_000_000_000_000,
};

export interface BenchTenants {
  /** A key of a tenant without quotas: authentication only, no Redis round trip. */
  readonly plainKey: string;
  /** A key of a tenant with quotas on every dimension: one admission script call per request. */
  readonly quotaKey: string;
  /** How many times Redis has run the admission script so far (INFO commandstats). */
  scriptCalls(): Promise<number>;
  stop(): Promise<void>;
}

/** Creates the benchmark's two tenants in the Redis of the triage under test (default key prefix). */
export async function benchTenants(redisUrl: string, adminKey: string): Promise<BenchTenants> {
  const tenancy = await startTenancy({
    redisUrl,
    redisPrefix: 'triage:',
    adminKey,
    leaseTtlMs: 30_000,
    redisDown: { rate: 'open', concurrency: 'open', budget: 'closed' },
    keyCacheTtlMs: 30_000,
    usageFlushMs: 1000,
    processId: `${hostname()}:${process.pid}:bench`,
  }, silentLogger());
  const plain = await tenancy.service.createTenant({ name: 'bench-plain' });
  const limited = await tenancy.service.createTenant({ name: 'bench-quotas' });
  await tenancy.service.setQuotas(limited.id, GENEROUS_QUOTAS);
  const plainKey = (await tenancy.service.createKey(plain.id, { scopes: ['infer'] })).key;
  const quotaKey = (await tenancy.service.createKey(limited.id, { scopes: ['infer'] })).key;
  return {
    plainKey,
    quotaKey,
    async scriptCalls() {
      const info = await tenancy.redis.info('commandstats');
      // ioredis runs defined scripts with EVALSHA (EVAL once, when the script is not yet loaded).
      const calls = (name: string): number => Number(new RegExp(`cmdstat_${name}:calls=(\\d+)`).exec(info)?.[1] ?? 0);
      return calls('evalsha') + calls('eval');
    },
    stop: () => tenancy.stop(),
  };
}

