import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import type { ProblemReport } from './validation-problem';

interface Step {
  model_name?: string;
  model_version?: number;
  input_map?: Record<string, string>;
  output_map?: Record<string, string>;
}

/** An ensemble tensor: the step that writes it (null: none) and the steps that read it. */
interface EnsembleTensor {
  writer: number | null;
  readers: number[];
}

/**
 * Triton's checks of an ensemble: platform "ensemble" if and only if ensemble_scheduling is
 * set; no instance_group, optimization or model_warmup; at least one step, each naming a
 * model and mapping at least one input and one output with non-empty names; and the data
 * flow: each tensor written by one step at most, every ensemble input read, every ensemble
 * output written by a step that can run, every other tensor both computable and read. The
 * models the steps name are not checked (they live in other folders).
 */
export function checkEnsemble(config: ModelConfigObject, report: ProblemReport): void {
  const scheduling = config.ensemble_scheduling as { step?: Step[] } | undefined;
  const isEnsemble = config.platform === 'ensemble';
  if (scheduling === undefined) {
    if (isEnsemble) report('ensemble_scheduling', 'ensemble-scheduling', 'platform is "ensemble" but ensemble_scheduling is not set: an ensemble lists its steps there');
    return;
  }
  if (!isEnsemble) {
    report('ensemble_scheduling', 'ensemble-scheduling', `ensemble_scheduling is set but platform is '${config.platform ?? ''}': only platform "ensemble" takes steps`);
  }
  if ((config.instance_group ?? []).length > 0) report('instance_group', 'ensemble-field', 'an ensemble has no instances of its own: remove instance_group');
  if (config['optimization'] !== undefined) report('optimization', 'ensemble-field', 'an ensemble is not optimized itself (its steps are): remove optimization');
  if (((config['model_warmup'] as unknown[] | undefined) ?? []).length > 0) report('model_warmup', 'ensemble-field', 'an ensemble cannot be warmed up itself (its steps can): remove model_warmup');
  const steps = scheduling.step ?? [];
  if (steps.length === 0) {
    report('ensemble_scheduling.step', 'ensemble-step', 'ensemble_scheduling lists no step');
    return;
  }
  steps.forEach((step, index) => checkStep(step, `ensemble_scheduling.step[${index}]`, report));
  checkDataFlow(config, steps, report);
}

function checkStep(step: Step, at: string, report: ProblemReport): void {
  if ((step.model_name ?? '') === '') report(`${at}.model_name`, 'ensemble-step', `${at} names no model (model_name)`);
  if ((step.model_version ?? -1) < -1) report(`${at}.model_version`, 'ensemble-step', `${at} model_version must be a version number, or -1 for the latest, got ${step.model_version}`);
  for (const map of ['input_map', 'output_map'] as const) {
    const entries = Object.entries(step[map] ?? {});
    if (entries.length === 0) report(`${at}.${map}`, 'ensemble-step', `${at} has an empty ${map}: a step maps at least one ${map === 'input_map' ? 'input' : 'output'}`);
    for (const [key, value] of entries) {
      if (key === '' || value === '') {
        report(`${at}.${map}`, 'ensemble-step', `${at} ${map} maps '${key}' to '${value}': both the model's tensor name (key) and the ensemble tensor name (value) must be non-empty`);
      }
    }
  }
}

function checkDataFlow(config: ModelConfigObject, steps: readonly Step[], report: ProblemReport): void {
  const tensors = new Map<string, EnsembleTensor>();
  const tensor = (name: string): EnsembleTensor => {
    let entry = tensors.get(name);
    if (entry === undefined) tensors.set(name, entry = { writer: null, readers: [] });
    return entry;
  };
  steps.forEach((step, index) => {
    for (const name of Object.values(step.input_map ?? {})) tensor(name).readers.push(index);
    for (const name of Object.values(step.output_map ?? {})) {
      const entry = tensor(name);
      if (entry.writer !== null) {
        report(`ensemble_scheduling.step[${index}].output_map`, 'ensemble-data-flow', `ensemble tensor '${name}' is written by step ${entry.writer} and again by step ${index}: each tensor has one writer`);
      } else {
        entry.writer = index;
      }
    }
  });
  const inputs = (config.input ?? []).map((input) => input.name ?? '');
  const available = computableTensors(steps, inputs, tensors);
  inputs.forEach((name, index) => {
    if (name !== '' && (tensors.get(name)?.readers.length ?? 0) === 0) {
      report(`input[${index}]`, 'ensemble-data-flow', `ensemble input '${name}' is not read by any step (no input_map value names it)`);
    }
  });
  const outputs = new Set<string>();
  (config.output ?? []).forEach((output, index) => {
    const name = output.name ?? '';
    if (name === '') return;
    outputs.add(name);
    const entry = tensors.get(name);
    if (entry === undefined || entry.writer === null) {
      report(`output[${index}]`, 'ensemble-data-flow', `ensemble output '${name}' is not written by any step (no output_map value names it)`);
    } else if (!available.has(name)) {
      report(`output[${index}]`, 'ensemble-data-flow', `ensemble output '${name}' is never computed: step ${entry.writer}, which writes it, reads a tensor that is never available`);
    }
  });
  for (const [name, entry] of tensors) {
    if (outputs.has(name) || inputs.includes(name)) continue;
    if (entry.writer === null) {
      report(`ensemble_scheduling.step[${entry.readers[0] ?? 0}].input_map`, 'ensemble-data-flow', `ensemble tensor '${name}' is read by step ${entry.readers.join(', ')} but is neither an ensemble input nor written by any step`);
    } else if (!available.has(name)) {
      report(`ensemble_scheduling.step[${entry.writer}].output_map`, 'ensemble-data-flow', `ensemble tensor '${name}' is never computed: step ${entry.writer}, which writes it, reads a tensor that is never available`);
    } else if (entry.readers.length === 0) {
      report(`ensemble_scheduling.step[${entry.writer}].output_map`, 'ensemble-data-flow', `ensemble tensor '${name}' written by step ${entry.writer} is neither read by a step nor an ensemble output`);
    }
  }
}

/** The tensors that become available: the ensemble inputs, then the outputs of every step whose inputs are all available. */
function computableTensors(steps: readonly Step[], inputs: readonly string[], tensors: ReadonlyMap<string, EnsembleTensor>): Set<string> {
  const available = new Set(inputs.filter((name) => tensors.has(name)));
  const ran = new Set<number>();
  for (let progress = true; progress;) {
    progress = false;
    steps.forEach((step, index) => {
      if (ran.has(index) || !Object.values(step.input_map ?? {}).every((name) => available.has(name))) return;
      ran.add(index);
      progress = true;
      for (const name of Object.values(step.output_map ?? {})) if (tensors.get(name)?.writer === index) available.add(name);
    });
  }
  return available;
}
