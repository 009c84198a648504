import type { VersionPolicyConfig } from './model-config-types';

/**
 * The versions a policy serves out of those present on disk, ascending: the newest
 * num_versions (default 1), all of them, or the listed ones. Throws when a specific
 * version is listed that is not on disk.
 */
export function selectVersions(policy: VersionPolicyConfig | undefined, available: readonly number[]): number[] {
  if (policy?.all !== undefined) return [...available];
  if (policy?.specific !== undefined) {
    const wanted = policy.specific.versions ?? [];
    const missing = wanted.filter((version) => !available.includes(version));
    if (missing.length > 0) {
      throw new Error(`version_policy specific lists version${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not found in the model directory (found: ${available.join(', ') || 'none'})`);
    }
    return [...new Set(wanted)].sort((a, b) => a - b);
  }
  const count = Math.max(1, policy?.latest?.num_versions ?? 1);
  return available.slice(-count);
}
