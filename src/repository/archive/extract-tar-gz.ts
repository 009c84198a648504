import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream';
import { createGunzip } from 'node:zlib';
import { extract as tarExtract, type Header } from 'tar-stream';
import { TriageError } from '../../errors/triage-error';
import type { ArchiveLimits } from './archive-limits';
import { archiveRefusal, entryTypeRefusal, reasonOf } from './archive-refusal';
import { archiveSizeCheck } from './archive-size-check';
import { byteMeter } from './byte-meter';
import { CompressionRatioGuard } from './compression-ratio-guard';
import type { EntryKind } from './entry-path-tree';
import type { ExtractionTarget } from './extraction-target';

/**
 * Streams a .tar.gz into `target`, one entry at a time: compressed bytes are counted against
 * maxArchiveBytes and gunzipped bytes against the compression ratio as they flow, so a limit
 * stops the gunzip at once. No entry is ever held in memory. Corrupt or truncated input is
 * refused with INVALID_ARGUMENT; failures of `input` itself and of the filesystem are
 * rethrown unchanged.
 */
export async function extractTarGz(input: Readable, target: ExtractionTarget, limits: ArchiveLimits): Promise<void> {
  const guard = new CompressionRatioGuard(limits);
  const checkArchiveSize = archiveSizeCheck(limits.maxArchiveBytes);
  const compressed = byteMeter((byteCount) => {
    checkArchiveSize(byteCount);
    guard.addCompressed(byteCount);
  });
  const gunzip = createGunzip();
  const gunzipped = byteMeter((byteCount) => guard.addUncompressed(byteCount));
  const extract = tarExtract();

  // Every error the streams report, in order, and the first the tar parser raised itself.
  const upstreamErrors: unknown[] = [];
  for (const stream of [input, compressed, gunzip, gunzipped]) stream.on('error', (error) => upstreamErrors.push(error));
  let tarFailure: unknown;
  extract.on('error', (error: unknown) => {
    if (!upstreamErrors.includes(error)) tarFailure ??= error;
  });

  const settled = new Promise<Error | null | undefined>((resolve) => {
    pipeline(input, compressed, gunzip, gunzipped, extract, resolve);
  });
  let loopFailure: unknown;
  try {
    for await (const entry of extract) {
      const header = entry.header;
      const admitted = target.admit(header.name, tarEntryKind(header), header.size);
      if (admitted === null || admitted.kind === 'directory') {
        if (admitted !== null) await target.writeDirectory(admitted);
        for await (const _ of entry as AsyncIterable<Buffer>) {
          // Skipped content (macOS junk) still flows through the gunzip meters.
        }
        continue;
      }
      await target.writeFile(admitted, entry as AsyncIterable<Buffer>);
    }
  } catch (error) {
    loopFailure = error;
  }
  // Every stream is finished or destroyed once the pipeline has settled.
  const pipelineFailure = await settled;
  if (loopFailure === undefined && (pipelineFailure === undefined || pipelineFailure === null)) return;
  throw causeOf(loopFailure, pipelineFailure, upstreamErrors, tarFailure);
}

function tarEntryKind(header: Header): EntryKind {
  switch (header.type) {
    // A contiguous file is a regular file that asked for contiguous storage (POSIX ustar).
    case 'file':
    case 'contiguous-file':
      return 'file';
    case 'directory':
      return 'directory';
    case 'symlink':
      throw entryTypeRefusal(header.name, 'a symbolic link');
    case 'link':
      throw entryTypeRefusal(header.name, 'a hard link');
    case 'character-device':
      throw entryTypeRefusal(header.name, 'a character device');
    case 'block-device':
      throw entryTypeRefusal(header.name, 'a block device');
    case 'fifo':
      throw entryTypeRefusal(header.name, 'a FIFO');
    default:
      throw entryTypeRefusal(header.name, 'of an unsupported tar entry type');
  }
}

/**
 * The failure to report. A stream destroyed under the entry being written makes the loop fail
 * with a bare "destroyed" error, so the cause is looked for first: a refusal, a gzip error, a
 * tar format error. Anything else (the source failing, the filesystem) is rethrown as it is.
 */
function causeOf(loopFailure: unknown, pipelineFailure: unknown, upstreamErrors: readonly unknown[], tarFailure: unknown): unknown {
  if (loopFailure instanceof TriageError) return loopFailure;
  const upstreamCause = upstreamErrors.find((error) => error instanceof TriageError || zlibCode(error) !== null);
  if (upstreamCause instanceof TriageError) return upstreamCause;
  if (upstreamCause !== undefined) {
    return zlibCode(upstreamCause) === 'Z_BUF_ERROR'
      ? archiveRefusal(`is empty or truncated: the gzip stream ends early (${reasonOf(upstreamCause)})`, upstreamCause)
      : archiveRefusal(`is not a valid gzip stream (${reasonOf(upstreamCause)})`, upstreamCause);
  }
  if (tarFailure !== undefined) {
    return /unexpected end/i.test(reasonOf(tarFailure))
      ? archiveRefusal(`is truncated: the tar data ends inside an entry (${reasonOf(tarFailure)})`, tarFailure)
      : archiveRefusal(`is not a valid tar archive (${reasonOf(tarFailure)})`, tarFailure);
  }
  return loopFailure ?? pipelineFailure;
}

function zlibCode(error: unknown): string | null {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && code.startsWith('Z_') ? code : null;
}
