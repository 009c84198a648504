import { datatypeFromConfigType } from '../../protocol/datatypes';
import type { ModelConfigObject, TensorConfig } from '../../local-triton/models/model-config-types';
import type { ResolvedBackend } from './backend-rules';
import type { ProblemReport } from './validation-problem';

/** Triton's variable-size dimension. */
const WILDCARD = -1;

/**
 * Triton's checks of each input and output (ValidateModelInput/Output): a unique name, a
 * data_type, at least one dim, each dim >= 1 or -1 (0 is refused), a reshape with the same
 * element count, NHWC/NCHW and non-linear formats with 3 dims, shape tensors on TensorRT only.
 */
export function checkTensors(config: ModelConfigObject, resolved: ResolvedBackend, report: ProblemReport): void {
  const maxBatchSize = config.max_batch_size ?? 0;
  for (const kind of ['input', 'output'] as const) {
    const tensors = config[kind] ?? [];
    const firstIndexOf = new Map<string, number>();
    tensors.forEach((tensor, index) => {
      const at = `${kind}[${index}]`;
      const name = tensor.name ?? '';
      if (name === '') {
        report(`${at}.name`, 'missing-tensor-name', `${at} has no name`);
      } else {
        const first = firstIndexOf.get(name);
        if (first === undefined) firstIndexOf.set(name, index);
        else report(`${at}.name`, 'duplicate-tensor-name', `${kind} name '${name}' is used twice (${kind}[${first}] and ${at}); names must be unique among the ${kind}s`);
      }
      const label = `${kind} '${name || at}'`;
      checkDatatype(tensor.data_type, `${at}.data_type`, label, report);
      checkShape(tensor, at, label, maxBatchSize, report);
      checkFormat(tensor, at, label, resolved, report);
    });
  }
  checkBatchTensors(config, report);
}

export function checkDatatype(dataType: string | undefined, path: string, label: string, report: ProblemReport): void {
  if (dataType === undefined || datatypeFromConfigType(dataType) === undefined) {
    report(path, 'invalid-datatype', `${label} must set data_type to a tensor type (TYPE_FP32, TYPE_INT64, TYPE_STRING, ...), got ${dataType ?? 'none (TYPE_INVALID)'}`);
  }
}

/** Why `dims` is not a valid Triton shape (each dim >= 1 or -1), or null. */
export function dimsProblem(dims: readonly number[]): string | null {
  const bad = dims.filter((dim) => dim < 1 && dim !== WILDCARD);
  return bad.length === 0 ? null : `each dim must be >= 1, or -1 for a variable size (0 is not allowed); got [${dims.join(', ')}]`;
}

function checkShape(tensor: TensorConfig, at: string, label: string, maxBatchSize: number, report: ProblemReport): void {
  const dims = tensor.dims ?? [];
  const dimsBad = dimsProblem(dims);
  if (dims.length === 0) {
    report(`${at}.dims`, 'invalid-dims', `${label} must set dims (for a batched scalar use dims: [ 1 ] with reshape: { shape: [ ] })`);
  } else if (dimsBad !== null) {
    report(`${at}.dims`, 'invalid-dims', `${label}: ${dimsBad}`);
  }
  if (tensor.reshape === undefined) return;
  const shape = tensor.reshape.shape ?? [];
  if (shape.length === 0 && maxBatchSize === 0) {
    report(`${at}.reshape`, 'invalid-reshape', `${label} has an empty reshape, which a model with max_batch_size 0 cannot use (scalar tensors are not supported)`);
  }
  const shapeBad = dimsProblem(shape);
  if (shapeBad !== null) {
    report(`${at}.reshape.shape`, 'invalid-reshape', `${label} reshape: ${shapeBad}`);
    return;
  }
  if (dims.length === 0 || dimsBad !== null) return;
  const mismatch = reshapeMismatch(dims, shape);
  if (mismatch !== null) report(`${at}.reshape.shape`, 'invalid-reshape', `${label}: ${mismatch}`);
}

/**
 * Why `shape` cannot reshape `dims`, or null. Both must hold the same number of elements; an
 * empty shape (a scalar) takes dims of one element; with variable dims, the fixed runs between
 * the -1s must hold the same numbers of elements ([2,4,-1,6] -> [8,-1,1,6] is fine).
 */
export function reshapeMismatch(dims: readonly number[], shape: readonly number[]): string | null {
  if (shape.length === 0) {
    return elementCount(dims) === 1 ? null : `reshape to a scalar (shape: [ ]) needs dims holding one element, got [${dims.join(', ')}]`;
  }
  const dimsRuns = fixedRuns(dims);
  const shapeRuns = fixedRuns(shape);
  if (dimsRuns.length !== shapeRuns.length) {
    return `dims [${dims.join(', ')}] and reshape [${shape.join(', ')}] have different numbers of variable-size (-1) dimensions`;
  }
  if (dimsRuns.some((count, index) => count !== shapeRuns[index])) {
    return `dims [${dims.join(', ')}] and reshape [${shape.join(', ')}] hold different numbers of elements`;
  }
  return null;
}

/** Element counts of the runs of fixed dims between -1s: [2,4,-1,6] -> [8, 6]. */
function fixedRuns(shape: readonly number[]): number[] {
  const runs = [1];
  for (const dim of shape) {
    if (dim === WILDCARD) runs.push(1);
    else runs[runs.length - 1] = (runs[runs.length - 1] as number) * dim;
  }
  return runs;
}

function elementCount(shape: readonly number[]): number {
  return shape.includes(WILDCARD) ? WILDCARD : shape.reduce((count, dim) => count * dim, 1);
}

function checkFormat(tensor: TensorConfig, at: string, label: string, resolved: ResolvedBackend, report: ProblemReport): void {
  const rank = (tensor.dims ?? []).length;
  const format = tensor['format'];
  if ((format === 'FORMAT_NHWC' || format === 'FORMAT_NCHW') && rank !== 3) {
    report(`${at}.format`, 'invalid-format', `${label} has format ${format}, which needs exactly 3 dims (got ${rank})`);
  }
  const tensorRt = resolved.platform === 'tensorrt_plan';
  if (tensor['is_non_linear_format_io'] === true && (!tensorRt || rank !== 3)) {
    report(`${at}.is_non_linear_format_io`, 'invalid-format', `${label} is a non-linear format tensor, which only TensorRT models (platform tensorrt_plan) support, with exactly 3 dims`);
  }
  if (tensor['is_shape_tensor'] === true && !tensorRt) {
    report(`${at}.is_shape_tensor`, 'shape-tensor', `${label} is a shape tensor, which only TensorRT models (platform tensorrt_plan) support`);
  }
}

interface BatchTensorConfig {
  kind?: string;
  data_type?: string;
  source_input?: string[];
  target_name?: string[];
}

/** batch_input and batch_output: one source input each, which must be an input; targets must be outputs. */
function checkBatchTensors(config: ModelConfigObject, report: ProblemReport): void {
  const inputs = new Set((config.input ?? []).map((tensor) => tensor.name ?? ''));
  const outputs = new Set((config.output ?? []).map((tensor) => tensor.name ?? ''));
  const checkSources = (entry: BatchTensorConfig, at: string, kind: string): void => {
    const sources = entry.source_input ?? [];
    if (sources.length !== 1) report(`${at}.source_input`, 'batch-io', `${at} (kind ${kind}) needs exactly one source_input, got ${sources.length}`);
    for (const source of sources) {
      if (!inputs.has(source)) report(`${at}.source_input`, 'batch-io', `${at} source_input '${source}' is not an input of the model`);
    }
  };
  ((config['batch_input'] ?? []) as BatchTensorConfig[]).forEach((entry, index) => {
    const at = `batch_input[${index}]`;
    checkSources(entry, at, entry.kind ?? 'BATCH_ELEMENT_COUNT');
    if (entry.data_type !== 'TYPE_INT32' && entry.data_type !== 'TYPE_FP32') {
      report(`${at}.data_type`, 'batch-io', `${at} data_type must be TYPE_INT32 or TYPE_FP32, got ${entry.data_type ?? 'none'}`);
    }
  });
  ((config['batch_output'] ?? []) as BatchTensorConfig[]).forEach((entry, index) => {
    const at = `batch_output[${index}]`;
    checkSources(entry, at, entry.kind ?? 'BATCH_SCATTER_WITH_INPUT_SHAPE');
    const seen = new Set<string>();
    for (const target of entry.target_name ?? []) {
      if (!outputs.has(target)) report(`${at}.target_name`, 'batch-io', `${at} target_name '${target}' is not an output of the model`);
      if (seen.has(target)) report(`${at}.target_name`, 'batch-io', `${at} lists target_name '${target}' twice`);
      seen.add(target);
    }
  });
}
