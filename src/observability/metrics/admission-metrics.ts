import { Counter, type Registry } from 'prom-client';
import type { AdmissionCounts } from '../../tenancy/quota-admission';
import { METRIC } from './metric-names';

/**
 * triage_quota_admissions_total{path} (requests of tenants with quotas admitted: `credit`
 * in the process, `redis` by the admission script) and triage_quota_script_calls_total{script}
 * (`admit`, `credit`): this process's counts, read at scrape time, so the sum over replicas
 * is exact. Script calls per admission is the Redis cost of quotas.
 */
export function registerAdmissionMetrics(registry: Registry, counts: () => AdmissionCounts): void {
  const registers = [registry];
  /** A counter that, at each scrape, adds what the process counted since the last one (counters only go up). */
  const countedSince = (name: string, help: string, label: string, fields: Readonly<Record<string, keyof AdmissionCounts>>): void => {
    const seen = new Map<string, number>();
    new Counter({
      name, help, labelNames: [label], registers,
      collect() {
        const now = counts();
        for (const [value, field] of Object.entries(fields)) {
          this.labels(value).inc(Math.max(0, now[field] - (seen.get(value) ?? 0)));
          seen.set(value, now[field]);
        }
      },
    });
  };
  countedSince(METRIC.quotaAdmissions,
    'Requests of tenants with quotas admitted, by path: credit (in the process, from a credit taken from Redis in advance) or redis (by the admission script, on their own).',
    'path', { credit: 'fromCredit', redis: 'byRedis' });
  countedSince(METRIC.quotaScriptCalls,
    'Quota script calls this process sent to Redis: admit (requests decided on their own) and credit (credits taken and given back).',
    'script', { admit: 'admitCalls', credit: 'creditCalls' });
}
