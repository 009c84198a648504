/**
 * Follows gRPC's length-prefixed framing (1 byte compressed flag, 4 bytes big-endian
 * length, then the message) across the chunks of one direction of a stream, without
 * copying them, so a proxy can enforce the message size limit while bytes flow through.
 */
export class GrpcFrameScanner {
  private headerFill = 0;
  private readonly header = Buffer.alloc(5);
  private remaining = 0;

  constructor(private readonly maxMessageBytes: number) {}

  /** Returns the declared length of the first message in the chunk over the limit, or -1. */
  scan(chunk: Buffer): number {
    let offset = 0;
    while (offset < chunk.length) {
      if (this.remaining > 0) {
        const skip = Math.min(this.remaining, chunk.length - offset);
        this.remaining -= skip;
        offset += skip;
        continue;
      }
      const take = Math.min(5 - this.headerFill, chunk.length - offset);
      chunk.copy(this.header, this.headerFill, offset, offset + take);
      this.headerFill += take;
      offset += take;
      if (this.headerFill === 5) {
        this.headerFill = 0;
        const length = this.header.readUInt32BE(1);
        if (length > this.maxMessageBytes) return length;
        this.remaining = length;
      }
    }
    return -1;
  }
}

/** The first message of a stream as it arrives: its header, then enough of its body to peek at. */
export class FirstMessage {
  private readonly chunks: Buffer[] = [];
  private size = 0;

  add(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  /** Every chunk received so far, in order (forwarded unchanged once the call is routed). */
  received(): Buffer[] {
    return this.chunks;
  }

  get byteLength(): number {
    return this.size;
  }

  /** The 5-byte header, once it has arrived: compressed flag and message length. */
  header(): { compressed: boolean; length: number } | null {
    if (this.size < 5) return null;
    const head = this.contiguous(5);
    return { compressed: head[0] === 1, length: head.readUInt32BE(1) };
  }

  /** The message bytes received so far (after the header), at most `length` of them. */
  body(length: number): Buffer {
    const available = Math.min(length, this.size - 5);
    return this.contiguous(5 + available).subarray(5, 5 + available);
  }

  private contiguous(bytes: number): Buffer {
    const first = this.chunks[0] as Buffer;
    if (first.length >= bytes) return first;
    const joined = Buffer.concat(this.chunks);
    this.chunks.length = 0;
    this.chunks.push(joined);
    return joined;
  }
}
