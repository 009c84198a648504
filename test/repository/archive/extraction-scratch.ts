import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { TriageError } from '../../../src/errors/triage-error';
import type { ArchiveFormat } from '../../../src/repository/archive/archive-format-of';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from '../../../src/repository/archive/archive-limits';
import { extractArchive } from '../../../src/repository/archive/extract-archive';
import type { ExtractedTree } from '../../../src/repository/archive/extracted-tree';
import { uploadOf } from '../../support/archive-builders';

/** A private directory for one test file; each extraction gets a fresh empty destination in it. */
export class ExtractionScratch {
  readonly path = mkdtempSync(join(tmpdir(), 'triage-archive-test-'));
  private count = 0;

  destination(): string {
    this.count += 1;
    const path = join(this.path, `destination-${this.count}`);
    mkdirSync(path);
    return path;
  }

  /** Extracts `archive` into a fresh destination. */
  async extract(archive: Buffer, format: ArchiveFormat, limits: Partial<ArchiveLimits> = {}): Promise<{ tree: ExtractedTree; destination: string }> {
    const destination = this.destination();
    const tree = await extractArchive(uploadOf(archive), format, destination, { ...DEFAULT_ARCHIVE_LIMITS, ...limits });
    return { tree, destination };
  }

  /**
   * Asserts that extracting `archive` is refused with INVALID_ARGUMENT whose message holds
   * every fragment, and that the destination is left empty. Returns the message.
   */
  async assertRefused(archive: Buffer, format: ArchiveFormat, fragments: readonly string[], limits: Partial<ArchiveLimits> = {}): Promise<string> {
    const destination = this.destination();
    let message = '';
    await assert.rejects(extractArchive(uploadOf(archive), format, destination, { ...DEFAULT_ARCHIVE_LIMITS, ...limits }), (error: unknown) => {
      assert.ok(error instanceof TriageError, `expected a TriageError, got ${String(error)}`);
      assert.equal(error.code, 'INVALID_ARGUMENT', error.message);
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      message = error.message;
      return true;
    });
    assert.deepEqual(readdirSync(destination), [], `destination not empty after: ${message}`);
    return message;
  }

  remove(): void {
    rmSync(this.path, { recursive: true, force: true });
  }
}

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

/** Every path under `root` ('/'-separated) with its kind, permission bits and, for files, SHA-256. */
export function listTree(root: string, prefix = ''): Map<string, string> {
  const listing = new Map<string, string>();
  for (const name of readdirSync(root).sort()) {
    const path = join(root, name);
    const relative = prefix === '' ? name : `${prefix}/${name}`;
    const stats = statSync(path);
    const mode = (stats.mode & 0o7777).toString(8);
    if (stats.isDirectory()) {
      listing.set(relative, `directory ${mode}`);
      for (const [child, description] of listTree(path, relative)) listing.set(child, description);
    } else {
      listing.set(relative, `file ${mode} ${sha256(readFileSync(path))}`);
    }
  }
  return listing;
}
