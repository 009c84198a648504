import { mkdir, mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, normalize, sep } from 'node:path';
import { TriageError } from '../../errors/triage-error';

/** What a RepositoryModelLoad request may carry besides the model name. */
export interface LoadOverrides {
  /** JSON of an inference.ModelConfig that replaces config.pbtxt. */
  readonly configJson?: string;
  /** `file:<version>/<path>` parameters: path inside the model directory -> bytes. */
  readonly files?: ReadonlyMap<string, Buffer>;
}

/**
 * Refuses, before anything is loaded or written, what Triton refuses: `file:` parameters
 * without `config`, and a `file:` path that leaves the model directory.
 */
export function checkLoadOverrides(modelName: string, overrides: LoadOverrides): void {
  const files = overrides.files ?? new Map<string, Buffer>();
  if (files.size > 0 && overrides.configJson === undefined) {
    throw new TriageError('INVALID_ARGUMENT', `failed to load '${modelName}': load parameter 'config' is required when 'file:' parameters are given`);
  }
  for (const path of files.keys()) safeRelativePath(path);
}

/**
 * Writes `file:` overrides into a fresh temporary model directory, which then replaces
 * the repository's directory for this load (Triton's behaviour). Every path is
 * checked to stay inside that directory before anything is written.
 */
export async function writeOverrideDirectory(modelName: string, files: ReadonlyMap<string, Buffer>): Promise<string> {
  const relativePaths = [...files.keys()].map((path) => safeRelativePath(path));
  const directory = await mkdtemp(join(tmpdir(), `local-triton-${modelName.replace(/[^A-Za-z0-9_.-]/g, '_')}-`));
  for (const [index, data] of [...files.values()].entries()) {
    const target = join(directory, relativePaths[index] as string);
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, data);
  }
  return directory;
}

function safeRelativePath(path: string): string {
  const normalized = normalize(path);
  if (path === '' || isAbsolute(path) || normalized === '..' || normalized.startsWith(`..${sep}`) || normalized.split(sep).includes('..')) {
    throw new TriageError('INVALID_ARGUMENT', `invalid file parameter 'file:${path}': the path must stay inside the model directory`);
  }
  return normalized;
}
