const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const COMMA = 0x2c;

export function isJsonSpace(byte: number): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * Finds where one JSON value ends in a body that arrives in parts, keeping its bytes
 * (slices of the parts, joined once): an object or array by its brackets outside strings,
 * a string by its closing quote, a number or literal at the next delimiter. It checks
 * structure only; JSON.parse checks the text afterwards.
 */
export class JsonValueCapture {
  private readonly parts: Buffer[] = [];
  private bytes = 0;
  private depth = 0;
  private inString = false;
  private escaped = false;
  private readonly kind: 'container' | 'string' | 'scalar';

  /** `first` is the value's first byte (not whitespace); `maxBytes` the largest value accepted. */
  constructor(first: number, private readonly maxBytes: number, private readonly tooLarge: () => Error) {
    this.kind = first === OPEN_BRACE || first === OPEN_BRACKET ? 'container' : first === QUOTE ? 'string' : 'scalar';
  }

  /**
   * Consumes `chunk` from `start`: the index just after the value when it ends in this
   * chunk, else -1 (every byte from `start` belongs to it). A scalar ends before the
   * delimiter that follows it, which is left for the caller.
   */
  feed(chunk: Buffer, start: number): number {
    let index = start;
    if (this.kind === 'scalar') {
      while (index < chunk.length && !isScalarEnd(chunk[index] as number)) index += 1;
      return this.keep(chunk, start, index, index < chunk.length);
    }
    for (; index < chunk.length; index++) {
      const byte = chunk[index] as number;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (byte === BACKSLASH) this.escaped = true;
        else if (byte === QUOTE) {
          this.inString = false;
          if (this.kind === 'string') return this.keep(chunk, start, index + 1, true);
        }
      } else if (byte === QUOTE) {
        this.inString = true;
      } else if (byte === OPEN_BRACE || byte === OPEN_BRACKET) {
        this.depth += 1;
      } else if (byte === CLOSE_BRACE || byte === CLOSE_BRACKET) {
        this.depth -= 1;
        if (this.depth === 0) return this.keep(chunk, start, index + 1, true);
      }
    }
    return this.keep(chunk, start, index, false);
  }

  /** A scalar at the very end of the body ends there. */
  get endsAtBodyEnd(): boolean {
    return this.kind === 'scalar';
  }

  text(): Buffer {
    return this.parts.length === 1 ? this.parts[0] as Buffer : Buffer.concat(this.parts, this.bytes);
  }

  private keep(chunk: Buffer, start: number, end: number, complete: boolean): number {
    if (end > start) {
      this.bytes += end - start;
      if (this.bytes > this.maxBytes) throw this.tooLarge();
      this.parts.push(chunk.subarray(start, end));
    }
    return complete ? end : -1;
  }
}

function isScalarEnd(byte: number): boolean {
  return byte === COMMA || byte === CLOSE_BRACE || byte === CLOSE_BRACKET || isJsonSpace(byte);
}
