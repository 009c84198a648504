import { TriageError } from '../errors/triage-error';
import type { ModelRecord, ModelVersionRecord } from './model-record';

/** A validation problem as the API lists it. */
export interface ModelProblem {
  readonly path: string;
  readonly rule: string;
  readonly message: string;
}

/** MODEL_INVALID (422) listing every problem in `problems`; the message names the first few. */
export function invalidModel(name: string, problems: readonly ModelProblem[]): TriageError {
  const shown = problems.slice(0, 3).map((problem) => `${problem.path}: ${problem.message}`).join('; ');
  const more = problems.length > 3 ? ` (and ${problems.length - 3} more, see problems)` : '';
  return new TriageError('MODEL_INVALID', `model '${name}' is not valid: ${shown}${more}`, {
    details: { problems: problems.map(({ path, rule, message }) => ({ path, rule, message })) },
  });
}

/** What the audit log keeps of a record: identity, versions and deployment, not the whole config. */
export function modelSummary(record: ModelRecord): Record<string, unknown> {
  return {
    name: record.name,
    platform: record.platform,
    backend: record.backend,
    versions: record.versions.map((version) => ({ version: version.version, sha256: version.sha256, size_bytes: version.size_bytes })),
    deployment: record.deployment,
    revision: record.revision,
  };
}

/** Numeric order of version numbers (they are decimal strings). */
export function versionOrder(a: ModelVersionRecord, b: ModelVersionRecord): number {
  return a.version.length - b.version.length || a.version.localeCompare(b.version);
}
