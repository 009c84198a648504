import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import { checkPreferredSizes } from './batching-rules';
import { checkDatatype, dimsProblem } from './tensor-rules';
import type { ProblemReport } from './validation-problem';

interface Control {
  kind?: string;
  int32_false_true?: number[];
  fp32_false_true?: number[];
  bool_false_true?: boolean[];
  data_type?: string;
}

interface SequenceBatching {
  control_input?: { name?: string; control?: Control[] }[];
  state?: { input_name?: string; output_name?: string; data_type?: string; dims?: number[] }[];
  direct?: { minimum_slot_utilization?: number };
  oldest?: { preferred_batch_size?: number[] };
}

/** CONTROL_SEQUENCE_START is the enum's zero value, so the parser leaves it out. */
const DEFAULT_KIND = 'CONTROL_SEQUENCE_START';
const CORRID = 'CONTROL_SEQUENCE_CORRID';
const CORRID_TYPES = ['TYPE_UINT64', 'TYPE_INT64', 'TYPE_UINT32', 'TYPE_INT32', 'TYPE_STRING'];
const FALSE_TRUE_FIELDS = ['int32_false_true', 'fp32_false_true', 'bool_false_true'] as const;

/**
 * Triton's checks of the sequence batcher: control tensors named once each, each control kind
 * given at most once; START, READY and END with exactly one of int32_false_true,
 * fp32_false_true or bool_false_true holding [false, true]; CORRID with a data_type of
 * TYPE_UINT64, TYPE_INT64, TYPE_UINT32, TYPE_INT32 or TYPE_STRING and no false/true values;
 * the oldest strategy's preferred batch sizes within max_batch_size; the direct strategy's
 * minimum_slot_utilization in [0, 1]; implicit state with input and output names.
 */
export function checkSequenceBatching(config: ModelConfigObject, report: ProblemReport): void {
  const batching = config.sequence_batching as SequenceBatching | undefined;
  if (batching === undefined) return;
  const names = new Set<string>();
  const kinds = new Map<string, string>();
  (batching.control_input ?? []).forEach((input, index) => {
    const at = `sequence_batching.control_input[${index}]`;
    const name = input.name ?? '';
    if (name === '') report(`${at}.name`, 'sequence-control', `${at} has no name`);
    else if (names.has(name)) report(`${at}.name`, 'sequence-control', `sequence control tensor '${name}' is listed twice`);
    names.add(name);
    (input.control ?? []).forEach((control, controlIndex) => {
      const path = `${at}.control[${controlIndex}]`;
      const kind = control.kind ?? DEFAULT_KIND;
      const earlier = kinds.get(kind);
      if (earlier !== undefined) report(path, 'sequence-control', `${kind} is given twice (tensors '${earlier}' and '${name}'); each control kind is given at most once`);
      kinds.set(kind, name);
      checkControl(control, kind, path, report);
    });
  });
  const maxBatchSize = config.max_batch_size ?? 0;
  if (batching.oldest !== undefined) {
    checkPreferredSizes(batching.oldest.preferred_batch_size ?? [], 'sequence_batching.oldest.preferred_batch_size', maxBatchSize, report);
  }
  const utilization = batching.direct?.minimum_slot_utilization ?? 0;
  if (utilization < 0 || utilization > 1) {
    report('sequence_batching.direct.minimum_slot_utilization', 'sequence-strategy', `sequence_batching direct minimum_slot_utilization must be in [0, 1], got ${utilization}`);
  }
  (batching.state ?? []).forEach((state, index) => {
    const at = `sequence_batching.state[${index}]`;
    if ((state.input_name ?? '') === '') report(`${at}.input_name`, 'sequence-state', `${at} has no input_name (the tensor the model reads the state from)`);
    if ((state.output_name ?? '') === '') report(`${at}.output_name`, 'sequence-state', `${at} has no output_name (the tensor the model writes the next state to)`);
    checkDatatype(state.data_type, `${at}.data_type`, `${at} '${state.input_name ?? ''}'`, report);
    const dims = dimsProblem(state.dims ?? []);
    if (dims !== null) report(`${at}.dims`, 'sequence-state', `${at}: ${dims}`);
  });
}

function checkControl(control: Control, kind: string, path: string, report: ProblemReport): void {
  const given = FALSE_TRUE_FIELDS.filter((field) => (control[field] ?? []).length > 0);
  if (kind === CORRID) {
    if (given.length > 0) report(path, 'sequence-control', `${kind} carries the correlation id and takes no ${given.join(' or ')}`);
    if (!CORRID_TYPES.includes(control.data_type ?? '')) {
      report(`${path}.data_type`, 'sequence-control', `${kind} data_type must be one of ${CORRID_TYPES.join(', ')}, got ${control.data_type ?? 'none'}`);
    }
    return;
  }
  if (given.length !== 1) {
    report(path, 'sequence-control', `${kind} must set exactly one of ${FALSE_TRUE_FIELDS.join(', ')}, got ${given.length === 0 ? 'none' : given.join(' and ')}`);
    return;
  }
  const field = given[0] as (typeof FALSE_TRUE_FIELDS)[number];
  const count = (control[field] ?? []).length;
  if (count !== 2) report(`${path}.${field}`, 'sequence-control', `${kind} ${field} must hold exactly 2 values [false, true], got ${count}`);
}
