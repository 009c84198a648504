import type { ModelConfigObject } from '../../local-triton/models/model-config-types';

/**
 * The stable ids of the validation rules. Clients may match on them, so an id is never
 * renamed or reused for another rule.
 */
export const VALIDATION_RULES = [
  // The folder and its files
  'missing-config', 'config-parse', 'name-format', 'name-mismatch', 'no-versions', 'version-folder-name',
  'missing-version', 'missing-model-file', 'missing-label-file', 'file-outside-model', 'version-policy',
  // Backend and platform
  'missing-backend', 'unknown-backend', 'unknown-platform', 'platform-backend-mismatch',
  // Inputs and outputs
  'missing-tensor-name', 'duplicate-tensor-name', 'invalid-datatype', 'invalid-dims', 'invalid-reshape',
  'invalid-format', 'shape-tensor', 'batch-io',
  // Scheduling
  'max-batch-size', 'preferred-batch-size', 'priority-level', 'preserve-ordering', 'sequence-control',
  'sequence-state', 'sequence-strategy', 'response-cache', 'instance-group',
  // Ensembles
  'ensemble-scheduling', 'ensemble-step', 'ensemble-data-flow', 'ensemble-field',
  // The ONNX graph against the config
  'onnx-unreadable', 'onnx-input-missing', 'onnx-output-missing', 'onnx-input-undeclared', 'onnx-type-mismatch',
  'onnx-rank-mismatch', 'onnx-dims-mismatch', 'onnx-batch-dim',
] as const;

export type ValidationRule = (typeof VALIDATION_RULES)[number];

export interface ValidationProblem {
  /**
   * Where: a file of the model folder ('config.pbtxt', '1/model.onnx'), a position in
   * config.pbtxt ('config.pbtxt:3:17'), or a field of the config ('input[0].dims').
   */
  readonly path: string;
  readonly rule: ValidationRule;
  /** For people: names the field or file and the rule it breaks. */
  readonly message: string;
}

export interface ModelValidation {
  /** The name config.pbtxt sets, else the expected name; null when neither says it. */
  readonly name: string | null;
  /** config.pbtxt as parsed (proto field names, no defaults filled in); null when it is missing or does not parse. */
  readonly config: ModelConfigObject | null;
  /** The version folders validated, in ascending numeric order. */
  readonly versions: string[];
  /** Every problem found; empty when the model is valid. */
  readonly problems: ValidationProblem[];
}

/** Collects problems; rule checks take one and add to it rather than stopping at the first. */
export type ProblemReport = (path: string, rule: ValidationRule, message: string) => void;

export function problemCollector(): { problems: ValidationProblem[]; report: ProblemReport } {
  const problems: ValidationProblem[] = [];
  return { problems, report: (path, rule, message) => { problems.push({ path, rule, message }); } };
}
