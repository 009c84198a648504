import { datatypeFromConfigType, type Datatype } from '../../protocol/datatypes';
import type { DynamicBatchingConfig, ModelConfigObject, TensorConfig } from './model-config-types';

/** A model's input or output as local-triton serves it. */
export interface TensorSpec {
  readonly name: string;
  readonly datatype: Datatype;
  /** Dims from the config, without the batch dimension; -1 = any size. */
  readonly dims: readonly number[];
  /** The shape the backend sees instead of dims (config `reshape`), without batch. */
  readonly backendDims: readonly number[] | null;
  readonly optional: boolean;
}

export interface BatchingPolicy {
  readonly preferredBatchSizes: readonly number[];
  readonly maxQueueDelayUs: number;
  /** 0 = one level. Otherwise levels 1..priorityLevels, 1 the highest. */
  readonly priorityLevels: number;
  readonly defaultPriorityLevel: number;
  /** 0 = unbounded. */
  readonly maxQueueSize: number;
  readonly defaultTimeoutUs: number;
  readonly allowTimeoutOverride: boolean;
}

export type BackendKind = 'onnxruntime' | 'identity';

/** Everything local-triton needs to serve one model, checked once at load. */
export interface ModelSpec {
  readonly name: string;
  readonly backend: BackendKind;
  readonly platform: string;
  /** 0 = the model does not batch; >0 = inputs carry a leading batch dimension up to this. */
  readonly maxBatchSize: number;
  readonly inputs: readonly TensorSpec[];
  readonly outputs: readonly TensorSpec[];
  /** Null: each request executes alone (no dynamic_batching, or max_batch_size 0). */
  readonly batching: BatchingPolicy | null;
  readonly instanceCount: number;
  readonly defaultModelFilename: string;
}

const SUPPORTED_BACKENDS: readonly BackendKind[] = ['onnxruntime', 'identity'];

/**
 * Checks a config (already filled with Triton's defaults) and derives the spec.
 * Throws an Error whose message lists every problem found, one per line.
 */
export function modelSpecFromConfig(config: ModelConfigObject, directoryName: string): ModelSpec {
  const problems: string[] = [];
  const name = config.name ?? directoryName;
  if (name !== directoryName) {
    problems.push(`model name '${name}' in the configuration does not match the model directory '${directoryName}'`);
  }
  const backend = config.backend ?? '';
  if (!SUPPORTED_BACKENDS.includes(backend as BackendKind)) {
    problems.push(backend === ''
      ? "the configuration names no backend or platform (set backend: \"onnxruntime\" or \"identity\")"
      : `backend '${backend}' is not available in local-triton (it serves ${SUPPORTED_BACKENDS.map((b) => `'${b}'`).join(' and ')})`);
  }
  for (const unsupported of ['sequence_batching', 'ensemble_scheduling'] as const) {
    if (config[unsupported] !== undefined) problems.push(`${unsupported} is not supported by local-triton`);
  }
  const maxBatchSize = config.max_batch_size ?? 0;
  if (!Number.isInteger(maxBatchSize) || maxBatchSize < 0) problems.push(`max_batch_size must be >= 0, got ${maxBatchSize}`);
  const inputs = tensorSpecs('input', config.input ?? [], problems);
  const outputs = tensorSpecs('output', config.output ?? [], problems);
  if (inputs.length === 0) problems.push('the configuration declares no input');
  if (outputs.length === 0) problems.push('the configuration declares no output');
  const batching = batchingPolicy(config.dynamic_batching, maxBatchSize, problems);
  const instanceCount = (config.instance_group ?? []).reduce((sum, group) => sum + (group.count ?? 1), 0);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  return {
    name,
    backend: backend as BackendKind,
    platform: config.platform ?? '',
    maxBatchSize,
    inputs,
    outputs,
    batching,
    instanceCount: Math.max(1, instanceCount),
    defaultModelFilename: config.default_model_filename ?? '',
  };
}

function tensorSpecs(kind: 'input' | 'output', tensors: TensorConfig[], problems: string[]): TensorSpec[] {
  const seen = new Set<string>();
  const specs: TensorSpec[] = [];
  tensors.forEach((tensor, index) => {
    const where = `${kind}[${index}]`;
    const name = tensor.name ?? '';
    if (name === '') { problems.push(`${where} has no name`); return; }
    if (seen.has(name)) problems.push(`${kind} name '${name}' is used twice`);
    seen.add(name);
    const info = datatypeFromConfigType(tensor.data_type ?? '');
    if (info === undefined) problems.push(`${kind} '${name}' has an invalid data_type '${tensor.data_type ?? 'TYPE_INVALID'}'`);
    const dims = tensor.dims ?? [];
    if (dims.some((dim) => !Number.isInteger(dim) || (dim < 1 && dim !== -1))) {
      problems.push(`${kind} '${name}' has invalid dims [${dims.join(',')}]: each dim must be >= 1 or -1`);
    }
    const reshape = tensor.reshape?.shape ?? null;
    specs.push({
      name,
      datatype: info?.datatype ?? 'FP32',
      dims,
      backendDims: tensor.reshape === undefined ? null : reshape ?? [],
      optional: tensor.optional === true,
    });
  });
  return specs;
}

function batchingPolicy(config: DynamicBatchingConfig | undefined, maxBatchSize: number, problems: string[]): BatchingPolicy | null {
  if (config === undefined || maxBatchSize === 0) return null;
  const preferred = [...(config.preferred_batch_size ?? [])].sort((a, b) => a - b);
  for (const size of preferred) {
    if (size < 1 || size > maxBatchSize) {
      problems.push(`dynamic_batching preferred_batch_size ${size} must be between 1 and max_batch_size ${maxBatchSize}`);
    }
  }
  const priorityLevels = config.priority_levels ?? 0;
  const defaultPriorityLevel = config.default_priority_level ?? 0;
  if (priorityLevels > 0 && (defaultPriorityLevel < 1 || defaultPriorityLevel > priorityLevels)) {
    problems.push(`dynamic_batching default_priority_level must be between 1 and priority_levels ${priorityLevels}`);
  }
  const queuePolicy = config.default_queue_policy ?? {};
  return {
    preferredBatchSizes: preferred,
    maxQueueDelayUs: config.max_queue_delay_microseconds ?? 0,
    priorityLevels,
    defaultPriorityLevel,
    maxQueueSize: queuePolicy.max_queue_size ?? 0,
    defaultTimeoutUs: queuePolicy.default_timeout_microseconds ?? 0,
    allowTimeoutOverride: queuePolicy.allow_timeout_override ?? false,
  };
}

/** The shape Triton reports for a tensor: dims with -1 prepended when the model batches. */
export function fullShape(spec: TensorSpec, maxBatchSize: number): number[] {
  return maxBatchSize > 0 ? [-1, ...spec.dims] : [...spec.dims];
}
