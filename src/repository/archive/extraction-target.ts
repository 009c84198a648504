import { createHash } from 'node:crypto';
import { chmod, mkdir, open, readdir, rm, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { TriageError } from '../../errors/triage-error';
import type { ArchiveLimits } from './archive-limits';
import { entryPathSegments, isMacJunk } from './archive-entry-path';
import { archiveRefusal, entryRefusal } from './archive-refusal';
import { EntryPathTree, type EntryKind } from './entry-path-tree';
import type { ExtractedFile, ExtractedTree } from './extracted-tree';

/** An entry that passed every rule that can be checked before its content is read. */
export interface AdmittedEntry {
  /** The name as the archive spells it, for messages. */
  readonly name: string;
  readonly segments: readonly string[];
  readonly kind: EntryKind;
}

const FILE_MODE = 0o644;
const DIRECTORY_MODE = 0o755;

/**
 * The destination of one extraction, shared by every archive format: it admits entries
 * (count, path rules, duplicates, file/directory conflicts, declared sizes), writes them, and
 * can remove everything it wrote.
 *
 * Invariants: nothing is written outside `destination` (paths are checked segments, files are
 * created with O_EXCL so an existing path is never reused or followed, and no link is ever
 * created); files get mode 0o644 and directories 0o755 whatever the archive says; sizes and
 * hashes are of the bytes actually written; limits are checked before a chunk is written.
 */
export class ExtractionTarget {
  private entryCount = 0;
  private declaredTotalBytes = 0;
  private writtenTotalBytes = 0;
  /** Every path the archive makes exist, named by an entry or implied by a deeper one. */
  private readonly paths = new EntryPathTree();
  /** The top-level names this extraction created: exactly what clear() removes. */
  private readonly createdTopLevel = new Set<string>();
  private readonly files: ExtractedFile[] = [];

  private constructor(
    readonly destination: string,
    private readonly limits: ArchiveLimits,
  ) {}

  /** A target on `destination`, which must be an existing empty directory. */
  static async open(destination: string, limits: ArchiveLimits): Promise<ExtractionTarget> {
    const present = await readdir(destination);
    if (present.length > 0) {
      throw new TriageError('INTERNAL', `extraction destination ${destination} is not empty`);
    }
    return new ExtractionTarget(destination, limits);
  }

  /**
   * Checks one entry against the rules and the entries before it. Returns null for an entry
   * that is never written: macOS junk, or the archive's own root directory ('./').
   */
  admit(name: string, kind: EntryKind, declaredBytes = 0): AdmittedEntry | null {
    this.entryCount += 1;
    if (this.entryCount > this.limits.maxFiles) {
      throw archiveRefusal(`has more than ${this.limits.maxFiles} entries (limit maxFiles)`);
    }
    const segments = entryPathSegments(name);
    if (isMacJunk(segments)) return null;
    if (segments.length === 0) {
      if (kind === 'directory') return null;
      throw entryRefusal(name, 'is a file with an empty path');
    }
    if (kind === 'file') this.admitDeclaredSize(name, declaredBytes);
    this.paths.add(name, segments, kind);
    return { name, segments, kind };
  }

  async writeDirectory(entry: AdmittedEntry): Promise<void> {
    await this.ensureDirectory(entry.segments);
  }

  /** Writes one file from its content, refusing it as soon as a size limit is crossed. */
  async writeFile(entry: AdmittedEntry, content: AsyncIterable<Uint8Array>): Promise<void> {
    await this.ensureDirectory(entry.segments.slice(0, -1));
    const handle = await open(join(this.destination, ...entry.segments), 'wx', FILE_MODE);
    if (entry.segments.length === 1) this.createdTopLevel.add(entry.segments[0] ?? '');
    const hash = createHash('sha256');
    let sizeBytes = 0;
    try {
      await handle.chmod(FILE_MODE);
      for await (const chunk of content) {
        sizeBytes += chunk.byteLength;
        this.checkWrittenSize(entry.name, sizeBytes);
        hash.update(chunk);
        await writeFully(handle, chunk);
      }
    } finally {
      await handle.close();
    }
    this.writtenTotalBytes += sizeBytes;
    this.files.push({ path: entry.segments.join('/'), sizeBytes, sha256: hash.digest('hex') });
  }

  /** The tree written so far; refuses an archive that holds no file. */
  tree(): ExtractedTree {
    if (this.files.length === 0) throw archiveRefusal('holds no files');
    const single = this.paths.singleTopLevelDirectory();
    const prefix = single === null ? '' : `${single}/`;
    const files = this.files
      .map((file) => ({ ...file, path: file.path.slice(prefix.length) }))
      .sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
    return {
      root: single === null ? this.destination : join(this.destination, single),
      topLevelName: single,
      files,
      totalBytes: this.writtenTotalBytes,
    };
  }

  /** Removes everything this extraction created under the destination (not the destination). */
  async clear(): Promise<void> {
    for (const name of this.createdTopLevel) {
      await rm(join(this.destination, name), { recursive: true, force: true });
    }
    this.createdTopLevel.clear();
  }

  private admitDeclaredSize(name: string, declaredBytes: number): void {
    if (declaredBytes > this.limits.maxFileBytes) {
      throw entryRefusal(name, `declares ${declaredBytes} bytes, more than ${this.limits.maxFileBytes} (limit maxFileBytes)`);
    }
    this.declaredTotalBytes += declaredBytes;
    if (this.declaredTotalBytes > this.limits.maxTotalBytes) {
      throw entryRefusal(name, `brings the declared uncompressed total over ${this.limits.maxTotalBytes} bytes (limit maxTotalBytes)`);
    }
  }

  private checkWrittenSize(name: string, fileBytes: number): void {
    if (fileBytes > this.limits.maxFileBytes) {
      throw entryRefusal(name, `is larger than ${this.limits.maxFileBytes} bytes (limit maxFileBytes)`);
    }
    if (this.writtenTotalBytes + fileBytes > this.limits.maxTotalBytes) {
      throw entryRefusal(name, `brings the uncompressed total over ${this.limits.maxTotalBytes} bytes (limit maxTotalBytes)`);
    }
  }

  private async ensureDirectory(segments: readonly string[]): Promise<void> {
    const nodes = this.paths.nodesAlong(segments);
    for (const [index, node] of nodes.entries()) {
      if (node.created) continue;
      const path = join(this.destination, ...segments.slice(0, index + 1));
      await mkdir(path, { mode: DIRECTORY_MODE });
      if (index === 0) this.createdTopLevel.add(segments[0] ?? '');
      await chmod(path, DIRECTORY_MODE);
      node.created = true;
    }
  }
}

async function writeFully(handle: FileHandle, chunk: Uint8Array): Promise<void> {
  let offset = 0;
  while (offset < chunk.byteLength) {
    const { bytesWritten } = await handle.write(chunk, offset, chunk.byteLength - offset);
    offset += bytesWritten;
  }
}
