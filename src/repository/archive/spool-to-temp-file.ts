import { createWriteStream } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { archiveSizeCheck } from './archive-size-check';
import { byteMeter } from './byte-meter';

/** A private copy of an uploaded archive on disk. */
export interface SpooledFile {
  readonly path: string;
  readonly sizeBytes: number;
  /** Deletes the file and its private directory. */
  remove(): Promise<void>;
}

/**
 * Writes `input` to a new file (mode 0o600) in a private directory under os.tmpdir(),
 * refusing it with INVALID_ARGUMENT as soon as it passes `maxBytes`. On any failure nothing
 * is left behind.
 */
export async function spoolToTempFile(input: Readable, maxBytes: number): Promise<SpooledFile> {
  const directory = await mkdtemp(join(tmpdir(), 'triage-upload-'));
  const remove = (): Promise<void> => rm(directory, { recursive: true, force: true });
  const path = join(directory, 'archive');
  let sizeBytes = 0;
  const checkSize = archiveSizeCheck(maxBytes);
  try {
    await pipeline(
      input,
      byteMeter((byteCount) => {
        checkSize(byteCount);
        sizeBytes += byteCount;
      }),
      createWriteStream(path, { flags: 'wx', mode: 0o600 }),
    );
  } catch (error) {
    await remove();
    throw error;
  }
  return { path, sizeBytes, remove };
}
