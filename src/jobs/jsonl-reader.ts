import { TriageError } from '../errors/triage-error';
import type { BodyItem, BodyReader } from './body-rows';

const NEWLINE = 0x0a;

/**
 * Cuts a JSONL body into lines, each a row (blank lines skipped, CRLF and a leading BOM
 * accepted). A line longer than maxRowBytes is refused at once, before it is buffered whole.
 */
export class JsonlReader implements BodyReader {
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  private line = 0;

  constructor(private readonly maxRowBytes: number) {}

  push(chunk: Buffer): BodyItem[] {
    const items: BodyItem[] = [];
    let start = 0;
    for (let newline = chunk.indexOf(NEWLINE); newline >= 0; newline = chunk.indexOf(NEWLINE, start)) {
      this.append(chunk.subarray(start, newline));
      this.finishLine(items);
      start = newline + 1;
    }
    if (start < chunk.length) this.append(chunk.subarray(start));
    return items;
  }

  end(): BodyItem[] {
    const items: BodyItem[] = [];
    if (this.pendingBytes > 0) this.finishLine(items);
    return items;
  }

  private append(part: Buffer): void {
    if (part.length === 0) return;
    this.pendingBytes += part.length;
    if (this.pendingBytes > this.maxRowBytes) {
      throw new TriageError('INVALID_ARGUMENT', `line ${this.line + 1} is longer than ${this.maxRowBytes} bytes, the largest row a job takes`);
    }
    this.pending.push(part);
  }

  private finishLine(items: BodyItem[]): void {
    this.line += 1;
    let text = this.pending.length === 1 ? this.pending[0] as Buffer : Buffer.concat(this.pending, this.pendingBytes);
    this.pending = [];
    this.pendingBytes = 0;
    if (this.line === 1 && text[0] === 0xef && text[1] === 0xbb && text[2] === 0xbf) text = text.subarray(3);
    if (isBlank(text)) return;
    items.push({ kind: 'row', row: this.line, text });
  }
}

function isBlank(text: Buffer): boolean {
  for (const byte of text) if (byte !== 0x20 && byte !== 0x09 && byte !== 0x0d) return false;
  return true;
}
