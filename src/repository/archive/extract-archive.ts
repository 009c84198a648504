import type { Readable } from 'node:stream';
import type { ArchiveFormat } from './archive-format-of';
import { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits';
import type { ExtractedTree } from './extracted-tree';
import { extractTarGz } from './extract-tar-gz';
import { extractZip } from './extract-zip';
import { ExtractionTarget } from './extraction-target';
import { tapSource } from './source-tap';

/**
 * Extracts an uploaded model archive (hostile until proven otherwise) into `destination`, an
 * empty directory the caller created outside the model repository.
 *
 * Only regular files and directories are written (mode 0o644 / 0o755, no owner, mtime or
 * special bit from the archive); macOS junk is skipped. Every rule and limit is enforced while
 * reading, on bytes actually seen. On any failure, everything written under `destination` is
 * removed before the error is thrown (the caller removes `destination` itself):
 * - a refused or malformed archive: TriageError INVALID_ARGUMENT whose message names the entry
 *   and the rule (`archive entry '../x' leaves the model folder`);
 * - a failure of `source` itself (e.g. the client went away): that error, unchanged;
 * - a filesystem failure: that error, unchanged.
 *
 * `source` is piped, never destroyed: after a refusal it is left unpiped and paused, so an HTTP
 * handler can still answer (and should then close or drain the connection).
 */
export async function extractArchive(
  source: Readable,
  format: ArchiveFormat,
  destination: string,
  limits: ArchiveLimits = DEFAULT_ARCHIVE_LIMITS,
): Promise<ExtractedTree> {
  // Tapped before the first await, so that a failure of the source is always observed.
  const tap = tapSource(source);
  let target: ExtractionTarget | undefined;
  try {
    target = await ExtractionTarget.open(destination, limits);
    if (format === 'zip') await extractZip(tap.input, target, limits);
    else await extractTarGz(tap.input, target, limits);
    return target.tree();
  } catch (error) {
    await target?.clear();
    throw tap.failure() ?? error;
  } finally {
    tap.detach();
  }
}

// The extraction layer's public surface, importable from this one module.
export { archiveFormatOf, type ArchiveFormat } from './archive-format-of';
export { DEFAULT_ARCHIVE_LIMITS, type ArchiveLimits } from './archive-limits';
export type { ExtractedFile, ExtractedTree } from './extracted-tree';
