import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import type { ProblemReport } from './validation-problem';

/** One entry of a version folder. */
export interface FolderEntry {
  readonly name: string;
  readonly isDirectory: boolean;
}

/** The backend a model runs on once Triton has filled in what the config leaves out. */
export interface ResolvedBackend {
  /** '' when it cannot be told (the problem is reported) and for ensembles. */
  readonly backend: string;
  /** '' when neither given nor implied by the backend. */
  readonly platform: string;
}

/** Platforms Triton knows, and the backend that serves each ('' for ensembles, which have none). */
const BACKEND_OF_PLATFORM: ReadonlyMap<string, string> = new Map([
  ['onnxruntime_onnx', 'onnxruntime'],
  ['tensorrt_plan', 'tensorrt'],
  ['pytorch_libtorch', 'pytorch'],
  ['libtorch', 'pytorch'],
  ['torch_aoti', 'pytorch'],
  ['tensorflow_savedmodel', 'tensorflow'],
  ['tensorflow_graphdef', 'tensorflow'],
  ['ensemble', ''],
]);

/** The platform Triton sets for a backend when the config names only the backend. */
const DEFAULT_PLATFORM: Readonly<Record<string, string>> = {
  onnxruntime: 'onnxruntime_onnx',
  tensorrt: 'tensorrt_plan',
  pytorch: 'pytorch_libtorch',
};

export const KNOWN_BACKENDS: readonly string[] = [
  'onnxruntime', 'tensorrt', 'pytorch', 'tensorflow', 'python', 'openvino', 'fil', 'dali', 'identity', 'repeat', 'square',
];

/**
 * How Triton recognizes a model that names neither backend nor platform: by its
 * default_model_filename, else by the file in its first version folder, trying the
 * frameworks in Triton's order.
 */
const RECOGNIZED_FILES: readonly { file: string; directory: boolean | null; backend: string; platform: string }[] = [
  { file: 'model.savedmodel', directory: true, backend: 'tensorflow', platform: 'tensorflow_savedmodel' },
  { file: 'model.graphdef', directory: false, backend: 'tensorflow', platform: 'tensorflow_graphdef' },
  { file: 'model.plan', directory: false, backend: 'tensorrt', platform: 'tensorrt_plan' },
  { file: 'model.onnx', directory: null, backend: 'onnxruntime', platform: 'onnxruntime_onnx' },
  { file: 'model.xml', directory: null, backend: 'openvino', platform: '' },
  { file: 'model.pt', directory: false, backend: 'pytorch', platform: 'pytorch_libtorch' },
  { file: 'model.pt2', directory: false, backend: 'pytorch', platform: 'torch_aoti' },
  { file: 'model.py', directory: null, backend: 'python', platform: '' },
];

/**
 * Checks `platform` and `backend` (each known, and not contradicting each other) and works
 * out the backend the model runs on. `firstVersion` is the content of the model's first
 * version folder, used as Triton does when the config names neither.
 */
export function resolveBackend(config: ModelConfigObject, firstVersion: readonly FolderEntry[] | null, report: ProblemReport): ResolvedBackend {
  const backend = config.backend ?? '';
  const platform = config.platform ?? '';
  const platformBackend = BACKEND_OF_PLATFORM.get(platform);
  if (platform !== '' && platformBackend === undefined) {
    report('platform', 'unknown-platform', `platform '${platform}' is not a Triton platform (known: ${[...BACKEND_OF_PLATFORM.keys()].join(', ')}); for other backends set only 'backend'`);
  }
  if (backend !== '' && !KNOWN_BACKENDS.includes(backend)) {
    report('backend', 'unknown-backend', `backend '${backend}' is not a known Triton backend (known: ${KNOWN_BACKENDS.join(', ')}; ensembles set platform "ensemble" and no backend)`);
  }
  if (backend !== '' && platformBackend !== undefined && platformBackend !== backend) {
    report('backend', 'platform-backend-mismatch', platform === 'ensemble'
      ? `an ensemble (platform "ensemble") has no backend, but backend is '${backend}'`
      : `platform '${platform}' runs on backend '${platformBackend}', but backend is '${backend}'`);
  }
  if (backend !== '') return { backend, platform: platform !== '' ? platform : DEFAULT_PLATFORM[backend] ?? '' };
  if (platformBackend !== undefined) return { backend: platformBackend, platform };
  if (platform !== '') return { backend: '', platform };
  const recognized = recognize(config.default_model_filename ?? '', firstVersion);
  if (recognized !== undefined) return { backend: recognized.backend, platform: recognized.platform };
  report('backend', 'missing-backend', `the config sets neither backend nor platform, and no version folder holds a file that tells the framework (${RECOGNIZED_FILES.map((entry) => entry.file).join(', ')})`);
  return { backend: '', platform: '' };
}

function recognize(defaultModelFilename: string, firstVersion: readonly FolderEntry[] | null): (typeof RECOGNIZED_FILES)[number] | undefined {
  if (defaultModelFilename !== '') return RECOGNIZED_FILES.find((entry) => entry.file === defaultModelFilename);
  return RECOGNIZED_FILES.find((candidate) => firstVersion?.some((entry) => entry.name === candidate.file
    && (candidate.directory === null || candidate.directory === entry.isDirectory)));
}
