import type { ModelRecord } from '../registry/model-record';
import { versionOrder } from '../registry/registry-records';

/**
 * The config JSON the controller sends with RepositoryModelLoad: the record's config, with
 * the deployment's version_policy replacing the config's when the deployment sets one.
 */
export function loadConfig(record: ModelRecord): Readonly<Record<string, unknown>> {
  const policy = record.deployment?.version_policy ?? null;
  return policy === null ? record.config : { ...record.config, version_policy: policy };
}

/**
 * The versions an instance serves once the model is loaded with loadConfig(record), ascending,
 * selected from the record's versions as Triton selects them from the version folders:
 * `latest` (num_versions, default 1; also when no policy is set), `all`, or `specific`
 * (listed versions the record does not have are left out; Triton would refuse the load).
 */
export function servedVersions(record: ModelRecord): string[] {
  const available = [...record.versions].sort(versionOrder).map((version) => version.version);
  const policy = asObject(loadConfig(record)['version_policy']);
  if (policy !== null && asObject(policy['all']) !== null) return available;
  const specific = policy === null ? null : asObject(policy['specific']);
  if (specific !== null) {
    const listed = Array.isArray(specific['versions']) ? specific['versions'].map((version) => String(version)) : [];
    return available.filter((version) => listed.includes(version));
  }
  const latest = policy === null ? null : asObject(policy['latest']);
  const count = Math.max(1, Number(latest?.['num_versions'] ?? 1) || 1);
  return available.slice(-count);
}

function asObject(value: unknown): Record<string, unknown> | null {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value as Record<string, unknown> : null;
}
