import { TriageError } from '../errors/triage-error';
import type { BodyItem, BodyReader } from './body-rows';
import { isJsonSpace, JsonValueCapture } from './json-value-capture';

/** Largest top-level member other than rows (model, metadata, ...). */
const MAX_FIELD_BYTES = 64 * 1024;

type State =
  | 'start' | 'first-key' | 'key' | 'colon' | 'value' | 'after-member' | 'next-key'
  | 'rows-open' | 'first-row' | 'next-row' | 'after-row' | 'done';

const BYTE = { quote: 0x22, colon: 0x3a, comma: 0x2c, openBrace: 0x7b, closeBrace: 0x7d, openBracket: 0x5b, closeBracket: 0x5d } as const;

/**
 * Reads a JSON job body `{"model": ..., "rows": [row, row, ...], ...}` as it arrives: each
 * top-level member other than `rows` is parsed whole (at most 64 KiB), each element of
 * `rows` is handed on as its JSON text, one at a time, so a body of any size is read in
 * the memory of one row. A body that is not such an object is refused at the first byte
 * that says so.
 */
export class JsonBodyReader implements BodyReader {
  private state: State = 'start';
  private capture: JsonValueCapture | null = null;
  private key = '';
  private rows = 0;
  private readonly keys = new Set<string>();

  constructor(private readonly maxRowBytes: number) {}

  push(chunk: Buffer): BodyItem[] {
    const items: BodyItem[] = [];
    let index = 0;
    while (index < chunk.length) {
      if (this.capture !== null) {
        const end = this.capture.feed(chunk, index);
        if (end < 0) return items;
        this.finishValue(items);
        index = end;
        continue;
      }
      const byte = chunk[index] as number;
      if (isJsonSpace(byte)) {
        index += 1;
        continue;
      }
      this.step(byte);
      if (this.capture === null) index += 1;
    }
    return items;
  }

  end(): BodyItem[] {
    const items: BodyItem[] = [];
    if (this.capture?.endsAtBodyEnd === true) this.finishValue(items);
    if (this.state !== 'done') {
      throw malformed(this.state === 'start' ? 'the body is empty: send a JSON object {"model": ..., "rows": [...]}, or JSONL with ?model=' : 'the body ends in the middle of the JSON object');
    }
    return items;
  }

  /** One structural byte (not whitespace) outside any value being captured. */
  private step(byte: number): void {
    switch (this.state) {
      case 'start':
        this.expect(byte === BYTE.openBrace, byte, 'the body must be a JSON object {"model": ..., "rows": [...]} (or JSONL with Content-Type application/x-ndjson)');
        this.state = 'first-key';
        return;
      case 'first-key':
        if (byte === BYTE.closeBrace) {
          this.state = 'done';
          return;
        }
        this.startKey(byte);
        return;
      case 'next-key':
        this.startKey(byte);
        return;
      case 'colon':
        this.expect(byte === BYTE.colon, byte, `expected ':' after "${this.key}"`);
        this.state = this.key === 'rows' ? 'rows-open' : 'value';
        return;
      case 'value':
        this.capture = new JsonValueCapture(byte, MAX_FIELD_BYTES, () => malformed(`"${this.key}" is larger than ${MAX_FIELD_BYTES} bytes`));
        return;
      case 'rows-open':
        this.expect(byte === BYTE.openBracket, byte, '"rows" must be an array of rows');
        this.state = 'first-row';
        return;
      case 'first-row':
        if (byte === BYTE.closeBracket) {
          this.state = 'after-member';
          return;
        }
        this.startRow(byte);
        return;
      case 'next-row':
        this.startRow(byte);
        return;
      case 'after-row':
        this.expect(byte === BYTE.comma || byte === BYTE.closeBracket, byte, `expected ',' or ']' after row ${this.rows}`);
        this.state = byte === BYTE.comma ? 'next-row' : 'after-member';
        return;
      case 'after-member':
        this.expect(byte === BYTE.comma || byte === BYTE.closeBrace, byte, `expected ',' or '}' after "${this.key}"`);
        this.state = byte === BYTE.comma ? 'next-key' : 'done';
        return;
      case 'done':
        throw malformed('there is more after the JSON object');
      case 'key':
        throw new Error('unreachable: a key is read by its capture');
    }
  }

  private startKey(byte: number): void {
    this.expect(byte === BYTE.quote, byte, 'expected a member name in double quotes');
    this.state = 'key';
    this.capture = new JsonValueCapture(byte, 1024, () => malformed('a member name is longer than 1024 bytes'));
  }

  private startRow(byte: number): void {
    this.expect(byte !== BYTE.comma && byte !== BYTE.closeBracket && byte !== BYTE.closeBrace && byte !== BYTE.colon, byte, `expected row ${this.rows + 1}`);
    this.capture = new JsonValueCapture(byte, this.maxRowBytes, () => malformed(`row ${this.rows + 1} is larger than ${this.maxRowBytes} bytes, the largest row a job takes`));
  }

  private finishValue(items: BodyItem[]): void {
    const text = (this.capture as JsonValueCapture).text();
    this.capture = null;
    if (this.state === 'key') {
      this.key = parseText(text, 'a member name') as string;
      if (this.keys.has(this.key)) throw malformed(`"${this.key}" is given twice`);
      this.keys.add(this.key);
      this.state = 'colon';
    } else if (this.state === 'value') {
      items.push({ kind: 'field', name: this.key, value: parseText(text, `"${this.key}"`) });
      this.state = 'after-member';
    } else {
      this.rows += 1;
      items.push({ kind: 'row', row: this.rows, text });
      this.state = 'after-row';
    }
  }

  private expect(ok: boolean, byte: number, rule: string): void {
    if (!ok) throw malformed(`${rule}, found '${String.fromCharCode(byte)}'`);
  }
}

function parseText(text: Buffer, what: string): unknown {
  try {
    return JSON.parse(text.toString('utf8'));
  } catch (error) {
    throw malformed(`${what} is not valid JSON: ${(error as Error).message}`);
  }
}

function malformed(message: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', `body: ${message}`);
}
