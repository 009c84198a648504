import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, rename, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError } from '../errors/triage-error';

/** A model or version folder name that is safe to join onto a path: no separators, no dot names. */
const SAFE_SEGMENT = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$/;

/**
 * Changes to the model repository on disk, each one atomic for a reader of the
 * repository (a Triton instance): content is written in a staging directory on the same
 * filesystem and moved into place with one rename, and removals rename out of the
 * repository before deleting. An instance never sees a half-written or half-deleted
 * model or version.
 */
export class RepositoryWriter {
  constructor(readonly root: string, readonly stagingRoot: string) {}

  /** A fresh, empty directory under the staging root; the caller removes it when done. */
  async newStagingDirectory(): Promise<string> {
    await mkdir(this.stagingRoot, { recursive: true });
    return mkdtemp(join(this.stagingRoot, 'stage-'));
  }

  modelPath(name: string): string {
    return join(this.root, safeSegment(name, 'model name'));
  }

  versionPath(name: string, version: string): string {
    return join(this.modelPath(name), safeSegment(version, 'version'));
  }

  async exists(path: string): Promise<boolean> {
    return stat(path).then(() => true, () => false);
  }

  /** Moves a complete staged model folder into the repository as `name`; ALREADY_EXISTS if the name is taken. */
  async installModel(name: string, stagedFolder: string): Promise<void> {
    const target = this.modelPath(name);
    await mkdir(this.root, { recursive: true });
    if (await this.exists(target)) throw new TriageError('ALREADY_EXISTS', `the model repository already has a folder '${name}'`);
    await this.moveIn(stagedFolder, target, `model '${name}'`);
  }

  /** Moves a staged version folder into the model's folder; ALREADY_EXISTS if the version is taken. */
  async installVersion(name: string, version: string, stagedFolder: string): Promise<void> {
    const target = this.versionPath(name, version);
    if (await this.exists(target)) throw new TriageError('ALREADY_EXISTS', `model '${name}' already has a version ${version}`);
    await this.moveIn(stagedFolder, target, `version ${version} of '${name}'`);
  }

  /** Replaces config.pbtxt with `text` (written beside it, then renamed over it). */
  async writeConfig(name: string, text: string): Promise<void> {
    const target = join(this.modelPath(name), 'config.pbtxt');
    const temporary = join(this.modelPath(name), `.config.pbtxt.${randomBytes(6).toString('hex')}`);
    await writeFile(temporary, text, { mode: 0o644 });
    await rename(temporary, target).catch(async (error: unknown) => {
      await rm(temporary, { force: true });
      throw error;
    });
  }

  async removeVersion(name: string, version: string): Promise<void> {
    await this.moveOutAndDelete(this.versionPath(name, version));
  }

  async removeModel(name: string): Promise<void> {
    await this.moveOutAndDelete(this.modelPath(name));
  }

  private async moveIn(source: string, target: string, what: string): Promise<void> {
    try {
      await rename(source, target);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST' || code === 'ENOTEMPTY') throw new TriageError('ALREADY_EXISTS', `${what} was written by another request meanwhile`);
      if (code === 'EXDEV') {
        throw new TriageError('INTERNAL', `cannot move ${what} into the repository: the staging directory ${this.stagingRoot} is on another filesystem than ${this.root} (set --staging-dir to a folder on the repository's filesystem)`, { cause: error });
      }
      throw error;
    }
  }

  private async moveOutAndDelete(path: string): Promise<void> {
    if (!(await this.exists(path))) return;
    const trash = await this.newStagingDirectory();
    await rename(path, join(trash, 'removed'));
    await rm(trash, { recursive: true, force: true });
  }
}

function safeSegment(value: string, what: string): string {
  if (!SAFE_SEGMENT.test(value)) throw new TriageError('INVALID_ARGUMENT', `${what} '${value}' must be 1-128 characters of letters, digits, '_', '.' and '-', not starting with '.' or '-'`);
  return value;
}
