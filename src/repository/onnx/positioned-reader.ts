import type { FileHandle } from 'node:fs/promises';
import { readVarint } from '../../protocol/wire-reader';
import { OnnxFormatError } from './onnx-format-error';

const WINDOW_BYTES = 64 * 1024;
const MAX_VARINT_BYTES = 10;

/**
 * Reads a file at arbitrary positions through one reusable window, so walking a protobuf
 * costs a read per 64 KiB of fields actually visited, and skipping a field costs nothing:
 * bytes that are never asked for are never read. Every read stays inside the file: asking
 * for bytes past its end throws OnnxFormatError (the file is truncated).
 */
export class PositionedReader {
  private window: Buffer = Buffer.alloc(WINDOW_BYTES);
  /** The window holds the file's bytes [windowStart, windowEnd). */
  private windowStart = 0;
  private windowEnd = 0;
  private read = 0;

  constructor(
    private readonly file: FileHandle,
    readonly size: number,
  ) {}

  /** How many bytes have been read from the file so far. */
  get bytesRead(): number {
    return this.read;
  }

  /**
   * The bytes [position, position + length). The view is valid until the next call; copy
   * what must outlive it.
   */
  async bytes(position: number, length: number): Promise<Uint8Array> {
    if (position < 0 || length < 0 || position + length > this.size) {
      throw new OnnxFormatError(`the file ends at byte ${this.size}, before the ${length} bytes that start here (truncated?)`, position);
    }
    if (position < this.windowStart || position + length > this.windowEnd) await this.fill(position, length);
    const from = position - this.windowStart;
    return this.window.subarray(from, from + length);
  }

  /** The varint at `position` (values beyond 2^53 lose precision) and the position after it. */
  async varint(position: number): Promise<[number, number]> {
    const available = Math.min(MAX_VARINT_BYTES, this.size - position);
    const bytes = await this.bytes(position, Math.max(available, 0));
    const decoded = readVarint(bytes, 0, bytes.length);
    if (decoded === null) {
      throw new OnnxFormatError(available < MAX_VARINT_BYTES ? 'the file ends inside a varint (truncated?)' : 'malformed varint', position);
    }
    return [decoded[0], position + decoded[1]];
  }

  private async fill(position: number, length: number): Promise<void> {
    const wanted = Math.min(Math.max(length, WINDOW_BYTES), this.size - position);
    if (wanted > this.window.length) this.window = Buffer.alloc(wanted);
    let filled = 0;
    while (filled < wanted) {
      const { bytesRead } = await this.file.read(this.window, filled, wanted - filled, position + filled);
      if (bytesRead === 0) throw new OnnxFormatError(`the file ended early while reading (it shrank to ${position + filled} bytes)`, position + filled);
      filled += bytesRead;
    }
    this.read += filled;
    this.windowStart = position;
    this.windowEnd = position + filled;
  }
}
