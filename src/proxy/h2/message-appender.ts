/**
 * Appends the same bytes to every message of one direction of a gRPC stream, rewriting
 * each message's 5-byte length prefix, while chunks flow through without being joined.
 * Compressed messages (flag 1) pass through unchanged: bytes cannot be appended to them.
 */
export class MessageAppender {
  private readonly header = Buffer.alloc(5);
  private headerFill = 0;
  private remaining = 0;
  private appendAfterBody = false;

  constructor(private readonly extra: Buffer) {}

  /** The buffers to send for this chunk, in order. */
  push(chunk: Buffer): Buffer[] {
    const out: Buffer[] = [];
    let offset = 0;
    while (offset < chunk.length) {
      if (this.headerFill < 5) {
        const take = Math.min(5 - this.headerFill, chunk.length - offset);
        chunk.copy(this.header, this.headerFill, offset, offset + take);
        this.headerFill += take;
        offset += take;
        if (this.headerFill < 5) break;
        const length = this.header.readUInt32BE(1);
        const compressed = this.header[0] === 1;
        this.appendAfterBody = !compressed;
        const rewritten = Buffer.from(this.header);
        if (!compressed) rewritten.writeUInt32BE(length + this.extra.length, 1);
        out.push(rewritten);
        this.remaining = length;
        if (length === 0) this.endOfMessage(out);
        continue;
      }
      const take = Math.min(this.remaining, chunk.length - offset);
      out.push(take === chunk.length ? chunk : chunk.subarray(offset, offset + take));
      offset += take;
      this.remaining -= take;
      if (this.remaining === 0) this.endOfMessage(out);
    }
    return out;
  }

  private endOfMessage(out: Buffer[]): void {
    if (this.appendAfterBody) out.push(this.extra);
    this.headerFill = 0;
    this.appendAfterBody = false;
  }
}
