/**
 * What an uploaded archive may cost. Every limit is checked against bytes actually read or
 * written, never against sizes the archive declares (declared sizes only allow an earlier
 * refusal).
 */
export interface ArchiveLimits {
  /** Compressed bytes of the archive itself, as received. */
  readonly maxArchiveBytes: number;
  /** Entries of any kind (files, directories, ignored macOS junk). */
  readonly maxFiles: number;
  /** Uncompressed bytes of one file. */
  readonly maxFileBytes: number;
  /** Uncompressed bytes of all files together. */
  readonly maxTotalBytes: number;
  /**
   * Uncompressed bytes per compressed byte received so far; enforced once more than
   * COMPRESSION_RATIO_FLOOR_BYTES are uncompressed.
   */
  readonly maxCompressionRatio: number;
}

const GIB = 1024 ** 3;

/** The ratio limit applies only past this many uncompressed bytes: small archives compress well. */
export const COMPRESSION_RATIO_FLOOR_BYTES = 1024 * 1024;

export const DEFAULT_ARCHIVE_LIMITS: ArchiveLimits = Object.freeze({
  maxArchiveBytes: 10 * GIB,
  maxFiles: 10_000,
  maxFileBytes: 8 * GIB,
  maxTotalBytes: 16 * GIB,
  maxCompressionRatio: 100,
});
