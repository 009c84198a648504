import type { Readable } from 'node:stream';
import { crc32 } from 'node:zlib';
import { getFileNameLowLevel, open as openZipFile, type Entry, type ZipFile } from 'yauzl';
import { TriageError } from '../../errors/triage-error';
import { COMPRESSION_RATIO_FLOOR_BYTES, type ArchiveLimits } from './archive-limits';
import { archiveRefusal, entryRefusal, reasonOf } from './archive-refusal';
import { CompressionRatioGuard } from './compression-ratio-guard';
import type { AdmittedEntry, ExtractionTarget } from './extraction-target';
import { spoolToTempFile } from './spool-to-temp-file';
import { zipEntryKind } from './zip-entry-kind';

const STORED = 0;
const DEFLATED = 8;
/** How long to wait for yauzl to close the spooled file before giving up waiting. */
const CLOSE_WAIT_MS = 2_000;

interface PlannedEntry {
  readonly entry: Entry;
  readonly admitted: AdmittedEntry;
}

/**
 * Extracts a zip into `target`. A zip needs random access, so `input` is first spooled to a
 * private temporary file (capped by maxArchiveBytes, deleted in finally). The central
 * directory is then checked as a whole before anything is written: entry count, names,
 * kinds, encryption, compression methods, duplicates and declared sizes. Content is then
 * written entry by entry, counting actual bytes (limits, compression ratio, CRC-32);
 * yauzl's validateEntrySizes refuses content longer or shorter than declared.
 */
export async function extractZip(input: Readable, target: ExtractionTarget, limits: ArchiveLimits): Promise<void> {
  const spooled = await spoolToTempFile(input, limits.maxArchiveBytes);
  try {
    const zip = await openZip(spooled.path);
    try {
      if (zip.entryCount > limits.maxFiles) {
        throw archiveRefusal(`has ${zip.entryCount} entries, more than ${limits.maxFiles} (limit maxFiles)`);
      }
      const plan = await admitAll(zip, target);
      const guard = new CompressionRatioGuard(limits);
      guard.addCompressed(spooled.sizeBytes);
      checkDeclaredRatio(plan, spooled.sizeBytes, limits);
      for (const { entry, admitted } of plan) {
        if (admitted.kind === 'directory') await target.writeDirectory(admitted);
        else await target.writeFile(admitted, entryContent(zip, entry, admitted.name, guard));
      }
    } finally {
      await closeZip(zip);
    }
  } finally {
    await spooled.remove();
  }
}

function openZip(path: string): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    const options = { lazyEntries: true, autoClose: false, decodeStrings: false, validateEntrySizes: true, strictFileNames: true };
    openZipFile(path, options, (error, zip) => {
      if (error !== null) reject(archiveRefusal(`is not a valid zip file (${reasonOf(error)})`, error));
      else {
        // An error yauzl reports after the central directory was read (closing the file) has no other listener.
        zip.on('error', () => {});
        resolve(zip);
      }
    });
  });
}

/** Reads and admits the whole central directory; nothing is written yet. */
async function admitAll(zip: ZipFile, target: ExtractionTarget): Promise<PlannedEntry[]> {
  const plan: PlannedEntry[] = [];
  const entries = zip.eachEntry();
  for (;;) {
    let next: IteratorResult<Entry>;
    try {
      next = await entries.next();
    } catch (error) {
      throw archiveRefusal(`is not a valid zip file (${reasonOf(error)})`, error);
    }
    if (next.done === true) return plan;
    const entry = next.value;
    // decodeStrings is off so that yauzl's own name checks do not pre-empt ours; strict: keep backslashes.
    const name = getFileNameLowLevel(entry.generalPurposeBitFlag, entry.fileNameRaw, entry.extraFields, true);
    if (entry.isEncrypted()) throw entryRefusal(name, 'is encrypted');
    const kind = zipEntryKind(entry, name);
    if (kind === 'file' && entry.compressionMethod !== STORED && entry.compressionMethod !== DEFLATED) {
      throw entryRefusal(name, `uses compression method ${entry.compressionMethod}; only stored (0) and deflate (8) are accepted`);
    }
    const admitted = target.admit(name, kind, entry.uncompressedSize);
    if (admitted !== null) plan.push({ entry, admitted });
  }
}

/** An early refusal on declared sizes; actual bytes are checked again while writing. */
function checkDeclaredRatio(plan: readonly PlannedEntry[], archiveBytes: number, limits: ArchiveLimits): void {
  let declared = 0;
  for (const { entry, admitted } of plan) if (admitted.kind === 'file') declared += entry.uncompressedSize;
  if (declared > COMPRESSION_RATIO_FLOOR_BYTES && declared > limits.maxCompressionRatio * archiveBytes) {
    throw archiveRefusal(
      `declares ${declared} uncompressed bytes from ${archiveBytes}, more than ${limits.maxCompressionRatio} times ` +
        '(limit maxCompressionRatio): refused as a decompression bomb',
    );
  }
}

/** One entry's inflated bytes; yauzl and checksum failures become refusals naming the entry. */
async function* entryContent(zip: ZipFile, entry: Entry, name: string, guard: CompressionRatioGuard): AsyncGenerator<Buffer> {
  let checksum = 0;
  try {
    const stream = await zip.openReadStreamPromise(entry);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      guard.addUncompressed(chunk.byteLength);
      checksum = crc32(chunk, checksum);
      yield chunk;
    }
  } catch (error) {
    if (error instanceof TriageError) throw error;
    throw entryRefusal(name, `is corrupt (${reasonOf(error)})`);
  }
  if (checksum >>> 0 !== entry.crc32 >>> 0) throw entryRefusal(name, 'is corrupt (CRC-32 mismatch)');
}

/** Closes the zip and waits until its file descriptor is closed (bounded, should a stream linger). */
function closeZip(zip: ZipFile): Promise<void> {
  if (!zip.isOpen) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(resolve, CLOSE_WAIT_MS);
    timer.unref();
    zip.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
    zip.close();
  });
}
