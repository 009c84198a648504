import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, isAbsolute, join, resolve } from 'node:path';
import { TriageError } from '../../errors/triage-error';
import type { ModelConfigObject } from '../../local-triton/models/model-config-types';
import { selectVersions } from '../../local-triton/models/version-policy';
import { parseModelConfigText } from '../model-config-schema';
import { TextFormatError } from '../text-format-error';
import type { FolderEntry } from './backend-rules';
import { checkModelFile, entryKind, expectedModelFile } from './model-file-rules';
import { modelNameProblem } from './model-name-rules';
import { checkOnnxModel } from './onnx-rules';
import { validateModelConfig } from './validate-model-config';
import { problemCollector, type ModelValidation, type ProblemReport } from './validation-problem';

export interface ValidateModelOptions {
  /** The name the model is registered under; by default the folder's own name. */
  readonly expectedName?: string;
  /** The version folders to validate: every one (the default), or those listed, which must exist. */
  readonly versions?: 'all' | readonly string[];
}

/** Version folders are positive integers without a leading zero. */
const VERSION_FOLDER = /^[1-9][0-9]*$/;

const byVersion = (a: string, b: string): number => a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);

/**
 * Validates a model folder in Triton's layout (`config.pbtxt`, `<version>/<model file>`)
 * before it is accepted: the name, config.pbtxt (it parses, and every rule Triton applies to
 * a config), the version folders and their model files, and for ONNX models each graph's
 * inputs and outputs against the config. Collects every problem instead of stopping at the
 * first; a bad model never throws. Throws TriageError when the folder cannot be read:
 * NOT_FOUND when it does not exist, INTERNAL for an I/O failure inside it.
 */
export async function validateModelDirectory(directory: string, options: ValidateModelOptions = {}): Promise<ModelValidation> {
  const entries = await readModelFolder(directory);
  try {
    return await validateFolder(directory, entries, options);
  } catch (error) {
    if (error instanceof TriageError) throw error;
    throw new TriageError('INTERNAL', `cannot validate model folder ${directory}: ${(error as Error).message}`, { cause: error });
  }
}

async function validateFolder(directory: string, entries: readonly FolderEntry[], options: ValidateModelOptions): Promise<ModelValidation> {
  const { problems, report } = problemCollector();
  const expectedName = options.expectedName ?? basename(resolve(directory));
  const nameProblem = modelNameProblem(expectedName);
  if (nameProblem !== null) report('.', 'name-format', `model name '${expectedName}': ${nameProblem}`);

  const config = await readConfig(directory, report);
  const configName = config?.name ?? '';
  if (configName !== '' && configName !== expectedName) {
    const against = options.expectedName !== undefined ? `the model is named '${expectedName}'` : `its folder is '${expectedName}'`;
    report('name', 'name-mismatch', `config.pbtxt sets name '${configName}', but ${against}: the two must be equal`);
  }

  const onDisk: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory) continue;
    if (VERSION_FOLDER.test(entry.name)) onDisk.push(entry.name);
    else report(`${entry.name}/`, 'version-folder-name', `folder '${entry.name}' is not a version folder (a positive integer without leading zeros, like 1); Triton would ignore it`);
  }
  onDisk.sort(byVersion);
  const versions = selectedVersions(onDisk, options.versions ?? 'all', report);
  if (onDisk.length === 0) report('.', 'no-versions', 'the model has no version folder (1/, 2/, ...); every model needs one, even an ensemble (an empty 1/)');

  if (config !== null) {
    // Triton recognizes a model's framework by the first version folder in name order ("10" before "2").
    const firstVersion = onDisk.length === 0 ? null : await folderEntries(join(directory, [...onDisk].sort()[0] as string));
    const { backend, problems: configProblems } = validateModelConfig(config, firstVersion);
    problems.push(...configProblems);
    if (options.versions === undefined || options.versions === 'all') checkVersionPolicy(config, onDisk, report);
    await checkLabelFiles(directory, config, report);
    const expectation = expectedModelFile(config, backend);
    if (expectation !== null && !escapesFolder(config.default_model_filename ?? '', 'default_model_filename', report)) {
      for (const version of versions) {
        const file = await checkModelFile(directory, version, expectation, report);
        if (file !== null && backend.backend === 'onnxruntime') await checkOnnxModel(directory, file, config, report);
      }
    }
  }
  return { name: configName !== '' ? configName : options.expectedName ?? null, config, versions, problems };
}

async function readModelFolder(directory: string): Promise<FolderEntry[]> {
  try {
    if (!(await stat(directory)).isDirectory()) throw new TriageError('INVALID_ARGUMENT', `${directory} is not a folder`);
    return await folderEntries(directory);
  } catch (error) {
    if (error instanceof TriageError) throw error;
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new TriageError('NOT_FOUND', `model folder ${directory} does not exist`, { cause: error });
    throw new TriageError('INTERNAL', `cannot read model folder ${directory}: ${(error as Error).message}`, { cause: error });
  }
}

/** A folder's entries; symbolic links count as what they point to, as Triton sees them. */
async function folderEntries(directory: string): Promise<FolderEntry[]> {
  const names = await readdir(directory);
  return Promise.all(names.map(async (name) => ({ name, isDirectory: await entryKind(join(directory, name)) === 'directory' })));
}

async function readConfig(directory: string, report: ProblemReport): Promise<ModelConfigObject | null> {
  let text: string;
  try {
    text = await readFile(join(directory, 'config.pbtxt'), 'utf8');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT' && code !== 'EISDIR') throw error;
    report('config.pbtxt', 'missing-config', code === 'EISDIR' ? 'config.pbtxt is a folder, not a file' : 'the model has no config.pbtxt');
    return null;
  }
  try {
    return parseModelConfigText(text) as ModelConfigObject;
  } catch (error) {
    if (!(error instanceof TextFormatError)) throw error;
    report(`config.pbtxt:${error.line}:${error.column}`, 'config-parse', `config.pbtxt line ${error.line}, column ${error.column}: ${error.reason}`);
    return null;
  }
}

function selectedVersions(onDisk: readonly string[], wanted: 'all' | readonly string[], report: ProblemReport): string[] {
  if (wanted === 'all') return [...onDisk];
  const selected: string[] = [];
  for (const version of new Set(wanted)) {
    if (!VERSION_FOLDER.test(version)) report(`${version}/`, 'version-folder-name', `version '${version}' is not a positive integer without leading zeros`);
    else if (!onDisk.includes(version)) report(`${version}/`, 'missing-version', `version folder ${version}/ does not exist`);
    else selected.push(version);
  }
  return selected.sort(byVersion);
}

/** A specific version policy must list versions that exist. */
function checkVersionPolicy(config: ModelConfigObject, onDisk: readonly string[], report: ProblemReport): void {
  try {
    selectVersions(config.version_policy, onDisk.map(Number));
  } catch (error) {
    report('version_policy', 'version-policy', (error as Error).message);
  }
}

/** An output's label_filename names a file of the model folder. */
async function checkLabelFiles(directory: string, config: ModelConfigObject, report: ProblemReport): Promise<void> {
  for (const [index, output] of (config.output ?? []).entries()) {
    const file = output['label_filename'];
    if (typeof file !== 'string' || file === '' || escapesFolder(file, `output[${index}].label_filename`, report)) continue;
    if (await entryKind(join(directory, file)) !== 'file') {
      report(`output[${index}].label_filename`, 'missing-label-file', `output '${output.name ?? ''}' names label file '${file}', which is not in the model folder`);
    }
  }
}

/** A file named by the config must stay inside the model folder: no absolute path, no '..'. */
function escapesFolder(file: string, path: string, report: ProblemReport): boolean {
  if (!isAbsolute(file) && !file.split(/[\\/]/).includes('..')) return false;
  report(path, 'file-outside-model', `${path} '${file}' points outside the model folder; it must be a path inside it`);
  return true;
}
