import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import type { ResolvedBackend } from './backend-rules';
import type { ProblemReport } from './validation-problem';

type EntryKind = 'file' | 'directory' | 'either';

interface ModelFileChoice {
  readonly name: string;
  readonly kind: EntryKind;
}

/** What every version folder of a model must hold. */
export interface ModelFileExpectation {
  /** Any one of these will do. */
  readonly choices: readonly ModelFileChoice[];
  /** Files that must sit beside the model file (OpenVINO's weights). */
  readonly companions: readonly string[];
}

/**
 * The model file Triton's backend loads from each version folder: default_model_filename
 * when the config sets it, else the backend's default (an ONNX model may be a folder holding
 * model.onnx and its external data). Null for backends that load no file (identity, repeat,
 * square, ensembles) or whose file name depends on backend parameters (fil).
 */
export function expectedModelFile(config: ModelConfigObject, resolved: ResolvedBackend): ModelFileExpectation | null {
  const configured = config.default_model_filename ?? '';
  if (configured !== '') return { choices: [{ name: configured, kind: 'either' }], companions: [] };
  const one = (name: string, kind: EntryKind, companions: readonly string[] = []): ModelFileExpectation => ({ choices: [{ name, kind }], companions });
  switch (resolved.backend) {
    case 'onnxruntime': return one('model.onnx', 'either');
    case 'tensorrt': return one('model.plan', 'file');
    case 'pytorch': return resolved.platform === 'torch_aoti' ? one('model.pt2', 'file') : one('model.pt', 'file');
    case 'python': return one('model.py', 'file');
    case 'openvino': return one('model.xml', 'file', ['model.bin']);
    case 'dali': return one('model.dali', 'file');
    case 'tensorflow':
      if (resolved.platform === 'tensorflow_savedmodel') return one('model.savedmodel', 'directory');
      if (resolved.platform === 'tensorflow_graphdef') return one('model.graphdef', 'file');
      return { choices: [{ name: 'model.savedmodel', kind: 'directory' }, { name: 'model.graphdef', kind: 'file' }], companions: [] };
    default:
      return null;
  }
}

/**
 * Checks that version folder `version` holds the model file; returns its path relative to
 * the model folder ('1/model.onnx'), or null after reporting 'missing-model-file'.
 */
export async function checkModelFile(modelPath: string, version: string, expectation: ModelFileExpectation, report: ProblemReport): Promise<string | null> {
  let found: string | null = null;
  for (const choice of expectation.choices) {
    const kind = await entryKind(join(modelPath, version, choice.name));
    if (kind !== null && (choice.kind === 'either' || choice.kind === kind)) {
      found = `${version}/${choice.name}`;
      break;
    }
  }
  if (found === null) {
    const wanted = expectation.choices.map((choice) => `${choice.name}${choice.kind === 'directory' ? '/' : ''}`).join(' or ');
    report(`${version}/`, 'missing-model-file', `version folder ${version} has no ${wanted}, the model file its backend loads (set default_model_filename if the file has another name)`);
    return null;
  }
  for (const companion of expectation.companions) {
    if (await entryKind(join(modelPath, version, companion)) !== 'file') {
      report(`${version}/${companion}`, 'missing-model-file', `version folder ${version} has no ${companion}, which must sit beside ${found.slice(version.length + 1)}`);
    }
  }
  return found;
}

/**
 * 'file', 'directory', or null when nothing usable is there (nothing at all, a dangling or
 * looping symbolic link, a socket). Follows symbolic links, as Triton does.
 */
export async function entryKind(path: string): Promise<'file' | 'directory' | null> {
  try {
    const info = await stat(path);
    if (info.isDirectory()) return 'directory';
    return info.isFile() ? 'file' : null;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR' || code === 'ELOOP') return null;
    throw error;
  }
}
