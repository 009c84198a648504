import { COMPRESSION_RATIO_FLOOR_BYTES, type ArchiveLimits } from './archive-limits';
import { archiveRefusal } from './archive-refusal';

/**
 * Refuses a decompression bomb while it inflates: once more than
 * COMPRESSION_RATIO_FLOOR_BYTES are uncompressed, uncompressed bytes may not exceed
 * maxCompressionRatio times the compressed bytes received so far. Both counts are of bytes
 * actually seen, never of sizes an archive declares.
 */
export class CompressionRatioGuard {
  private compressedBytes = 0;
  private uncompressedBytes = 0;

  constructor(private readonly limits: Pick<ArchiveLimits, 'maxCompressionRatio'>) {}

  addCompressed(byteCount: number): void {
    this.compressedBytes += byteCount;
  }

  /** Throws INVALID_ARGUMENT as soon as the ratio is crossed. */
  addUncompressed(byteCount: number): void {
    this.uncompressedBytes += byteCount;
    if (this.uncompressedBytes <= COMPRESSION_RATIO_FLOOR_BYTES) return;
    if (this.uncompressedBytes > this.limits.maxCompressionRatio * this.compressedBytes) {
      throw archiveRefusal(
        `inflates to more than ${this.limits.maxCompressionRatio} times its compressed size ` +
          `(${this.uncompressedBytes} bytes from ${this.compressedBytes}; limit maxCompressionRatio): refused as a decompression bomb`,
      );
    }
  }
}
