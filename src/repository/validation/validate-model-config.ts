import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import { resolveBackend, type FolderEntry, type ResolvedBackend } from './backend-rules';
import { checkBatching, checkResponseCache } from './batching-rules';
import { checkEnsemble } from './ensemble-rules';
import { checkInstanceGroups } from './instance-group-rules';
import { checkSequenceBatching } from './sequence-rules';
import { checkTensors } from './tensor-rules';
import { problemCollector, type ValidationProblem } from './validation-problem';

export interface ConfigValidation {
  readonly backend: ResolvedBackend;
  readonly problems: ValidationProblem[];
}

/**
 * Every rule Triton applies to a ModelConfig on its own, without its files: backend and
 * platform, inputs and outputs, batching, sequences, ensembles, instance groups, response
 * cache. `firstVersion` (the content of the first version folder) lets the backend be
 * recognized from its model file when the config names neither backend nor platform.
 * Usable on a config from JSON as well as from config.pbtxt.
 */
export function validateModelConfig(config: ModelConfigObject, firstVersion: readonly FolderEntry[] | null = null): ConfigValidation {
  const { problems, report } = problemCollector();
  const backend = resolveBackend(config, firstVersion, report);
  checkTensors(config, backend, report);
  checkBatching(config, report);
  checkSequenceBatching(config, report);
  checkResponseCache(config, report);
  checkEnsemble(config, report);
  checkInstanceGroups(config, backend, report);
  return { backend, problems };
}
