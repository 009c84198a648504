import type { InstanceGroupConfig, ModelConfigObject } from './model-config-types';

/** Backend <-> platform pairs and default model file names, as Triton's core defines them. */
const PLATFORM_OF_BACKEND: Readonly<Record<string, string>> = {
  onnxruntime: 'onnxruntime_onnx',
  tensorrt: 'tensorrt_plan',
  pytorch: 'pytorch_libtorch',
  tensorflow: 'tensorflow_savedmodel',
};

const BACKEND_OF_PLATFORM: Readonly<Record<string, string>> = {
  onnxruntime_onnx: 'onnxruntime',
  tensorrt_plan: 'tensorrt',
  pytorch_libtorch: 'pytorch',
  libtorch: 'pytorch',
  torch_aoti: 'pytorch',
  tensorflow_savedmodel: 'tensorflow',
  tensorflow_graphdef: 'tensorflow',
};

const DEFAULT_MODEL_FILENAME: Readonly<Record<string, string>> = {
  onnxruntime_onnx: 'model.onnx',
  tensorrt_plan: 'model.plan',
  pytorch_libtorch: 'model.pt',
  libtorch: 'model.pt',
  torch_aoti: 'model.pt2',
  tensorflow_savedmodel: 'model.savedmodel',
  tensorflow_graphdef: 'model.graphdef',
  python: 'model.py',
  openvino: 'model.xml',
  dali: 'model.dali',
};

/** Backends that Triton gives two CPU instances by default (the others get one). */
const TWO_CPU_INSTANCE_BACKENDS = new Set(['onnxruntime', 'tensorflow']);

/**
 * Fills in what Triton fills in when it loads a model, so the ModelConfig RPC answers
 * as Triton does: name, the backend/platform pair, max_batch_size, version_policy
 * (latest 1), instance groups with name, kind and count, and default_model_filename.
 * The input object is not modified.
 */
export function withTritonDefaults(config: ModelConfigObject, modelName: string): ModelConfigObject {
  const filled: ModelConfigObject = structuredClone(config);
  filled.name = config.name === undefined || config.name === '' ? modelName : config.name;
  const backend = config.backend !== undefined && config.backend !== '' ? config.backend
    : BACKEND_OF_PLATFORM[config.platform ?? ''] ?? '';
  const platform = config.platform !== undefined && config.platform !== '' ? config.platform
    : PLATFORM_OF_BACKEND[backend] ?? '';
  filled.backend = backend;
  if (platform !== '') filled.platform = platform;
  filled.max_batch_size = config.max_batch_size ?? 0;
  filled.input = config.input ?? [];
  filled.output = config.output ?? [];
  if (config.version_policy === undefined || Object.keys(config.version_policy).length === 0) {
    filled.version_policy = { latest: { num_versions: 1 } };
  }
  filled.instance_group = defaultInstanceGroups(config.instance_group ?? [], filled.name, backend);
  if (config.default_model_filename === undefined || config.default_model_filename === '') {
    const fileName = DEFAULT_MODEL_FILENAME[platform] ?? DEFAULT_MODEL_FILENAME[backend];
    if (fileName !== undefined) filled.default_model_filename = fileName;
  }
  return filled;
}

function defaultInstanceGroups(groups: InstanceGroupConfig[], modelName: string, backend: string): InstanceGroupConfig[] {
  const given = groups.length > 0 ? groups : [{}];
  return given.map((group, index) => {
    // local-triton has no GPU: KIND_AUTO and KIND_GPU groups run on the CPU, as Triton does
    // for KIND_AUTO on a machine without GPUs.
    const kind = group.kind === 'KIND_MODEL' ? 'KIND_MODEL' : 'KIND_CPU';
    const defaultCount = kind === 'KIND_CPU' && TWO_CPU_INSTANCE_BACKENDS.has(backend) ? 2 : 1;
    return {
      ...group,
      name: group.name !== undefined && group.name !== '' ? group.name : `${modelName}_${index}`,
      kind,
      count: group.count !== undefined && group.count > 0 ? group.count : defaultCount,
    };
  });
}

export function platformForBackend(backend: string): string | undefined {
  return PLATFORM_OF_BACKEND[backend];
}
