import { TriageError } from '../errors/triage-error';
import { modelConfigFromJson, modelConfigToJson } from '../repository/model-config-schema';
import type { DeploymentSpec } from './model-record';

const FIELDS = ['replicas', 'instance_labels', 'version_policy'] as const;
const MAX_REPLICAS = 1000;
const LABEL_KEY = /^[A-Za-z0-9_./-]{1,63}$/;

/**
 * The body of `POST /v1/models/{name}/deploy`: `replicas` (1..1000 or "all", required),
 * `instance_labels` (string map: only instances carrying all of them), `version_policy`
 * (Triton's ModelVersionPolicy as JSON, e.g. {"latest": {"num_versions": 2}}).
 * Errors name the field and the rule.
 */
export function readDeploymentRequest(body: unknown, now: Date): DeploymentSpec {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) throw invalid('body', 'must be a JSON object');
  const input = body as Record<string, unknown>;
  for (const field of Object.keys(input)) {
    if (!(FIELDS as readonly string[]).includes(field)) throw invalid(field, `is not a field here (known: ${FIELDS.join(', ')})`);
  }
  return {
    replicas: readReplicas(input['replicas']),
    instance_labels: input['instance_labels'] === undefined || input['instance_labels'] === null ? null : readLabels(input['instance_labels']),
    version_policy: input['version_policy'] === undefined || input['version_policy'] === null ? null : readVersionPolicy(input['version_policy']),
    updated_at: now.toISOString(),
  };
}

/** The deployment that unloads a model everywhere (undeploy). */
export function undeployment(now: Date): DeploymentSpec {
  return { replicas: 0, instance_labels: null, version_policy: null, updated_at: now.toISOString() };
}

function readReplicas(value: unknown): number | 'all' {
  if (value === 'all') return 'all';
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > MAX_REPLICAS) {
    throw invalid('replicas', `must be an integer from 1 to ${MAX_REPLICAS}, or "all" (got ${JSON.stringify(value) ?? 'nothing'}); undeploy with POST /v1/models/{name}/undeploy`);
  }
  return value;
}

function readLabels(value: unknown): Record<string, string> {
  if (typeof value !== 'object' || Array.isArray(value) || value === null) throw invalid('instance_labels', 'must be an object of string values');
  const entries = Object.entries(value);
  if (entries.length > 32) throw invalid('instance_labels', 'may hold at most 32 labels');
  for (const [key, label] of entries) {
    if (!LABEL_KEY.test(key)) throw invalid(`instance_labels.${key}`, 'must be a label name of 1 to 63 letters, digits, _ . / -');
    if (typeof label !== 'string' || label.length > 256) throw invalid(`instance_labels.${key}`, 'must be a string of at most 256 characters');
  }
  return value as Record<string, string>;
}

function readVersionPolicy(value: unknown): Record<string, unknown> {
  let config: Record<string, unknown>;
  try {
    config = modelConfigFromJson({ version_policy: value });
  } catch (error) {
    throw invalid('version_policy', `is not a ModelVersionPolicy (${(error as Error).message})`);
  }
  const policy = modelConfigToJson(config)['version_policy'];
  if (policy === undefined) throw invalid('version_policy', 'must set one of latest, all or specific');
  return policy as Record<string, unknown>;
}

function invalid(field: string, rule: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', `${field} ${rule}`);
}
