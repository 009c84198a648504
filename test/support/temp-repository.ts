import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../../src/protocol/project-paths';

export const SAMPLE_REPOSITORY = join(projectRoot(), 'model-repository');

/** A scratch model repository for one test file, removed by `remove()`. */
export class TempRepository {
  readonly path: string;

  constructor() {
    this.path = mkdtempSync(join(tmpdir(), 'triage-test-repo-'));
  }

  /** Copies sample models (from model-repository/) in. */
  copySample(...names: string[]): this {
    for (const name of names) cpSync(join(SAMPLE_REPOSITORY, name), join(this.path, name), { recursive: true });
    return this;
  }

  /** Writes a model: config.pbtxt text and version directories with optional files. */
  writeModel(name: string, configText: string | null, versions: Record<number, Record<string, Buffer | string>> = { 1: {} }): this {
    const modelPath = join(this.path, name);
    mkdirSync(modelPath, { recursive: true });
    if (configText !== null) writeFileSync(join(modelPath, 'config.pbtxt'), configText);
    for (const [version, files] of Object.entries(versions)) {
      mkdirSync(join(modelPath, version), { recursive: true });
      for (const [file, content] of Object.entries(files)) writeFileSync(join(modelPath, version, file), content);
    }
    return this;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}
