import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';

/** Version directories are positive integers without a leading zero; anything else is ignored, as Triton does. */
const VERSION_DIRECTORY = /^[1-9][0-9]*$/;

/** Model names: the directories of the repository (hidden ones skipped). */
export async function listModelNames(repositoryPath: string): Promise<string[]> {
  const entries = await readdir(repositoryPath, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && !entry.name.startsWith('.'))
    .map((entry) => entry.name)
    .sort();
}

/** The version numbers present in a model directory, ascending. */
export async function listVersions(modelPath: string): Promise<number[]> {
  const entries = await readdir(modelPath, { withFileTypes: true });
  return entries
    .filter((entry) => entry.isDirectory() && VERSION_DIRECTORY.test(entry.name))
    .map((entry) => Number(entry.name))
    .filter((version) => Number.isSafeInteger(version))
    .sort((a, b) => a - b);
}

/** config.pbtxt's text, or null when the model directory has none. */
export async function readConfigText(modelPath: string): Promise<string | null> {
  try {
    return await readFile(join(modelPath, 'config.pbtxt'), 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw error;
  }
}

export async function isDirectory(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isDirectory();
  } catch {
    return false;
  }
}
