/**
 * The stored form of a job's rows: one chunk is a binary blob (before encryption) that the
 * worker reads straight into batch tensors, with no JSON in between.
 *
 *   chunk := "TRJ1" (4 ASCII bytes) row*
 *   row   := u16 custom_id byte length, custom_id (UTF-8),
 *            u8 input count, input* (sorted by name)
 *   input := u16 name byte length, name (UTF-8),
 *            u8 datatype byte length, datatype (ASCII, e.g. FP32),
 *            u8 rank, rank x f64 dims,
 *            u32 data byte length, data (Triton's raw form: little-endian numbers,
 *            BYTES as elements each prefixed by its u32 length)
 *
 * Every integer and float is little-endian. Shapes are without the batch dimension when
 * the model batches. Chunks stored before this format are JSONL of JobRow (legacy; they
 * start with `{`, never with the magic); `storedRowIds` reads both.
 */
import { TriageError } from '../errors/triage-error';
import { datatypeInfo, elementCount, type Datatype, type DatatypeInfo } from '../protocol/datatypes';
import { parseJobRows } from './execution/parse-job-rows';
import type { PreparedInput, PreparedRow } from './execution/prepared-row';

export const PACKED_CHUNK_MAGIC: Buffer = Buffer.from('TRJ1', 'ascii');

/** One input of a row to pack: its raw bytes in Triton's raw form. */
export interface RowTensor {
  readonly name: string;
  readonly datatype: Datatype;
  readonly shape: readonly number[];
  readonly raw: Buffer;
}

const U8_MAX = 0xff;
const U16_MAX = 0xffff;
const U32_MAX = 0xffffffff;

/** One row in the packed form. Throws a RangeError when a length does not fit its field. */
export function packRow(customId: string, inputs: readonly RowTensor[]): Buffer {
  const idBytes = Buffer.byteLength(customId, 'utf8');
  if (idBytes > U16_MAX) throw new RangeError(`a custom_id of ${idBytes} bytes does not fit a packed row (at most ${U16_MAX})`);
  if (inputs.length > U8_MAX) throw new RangeError(`a row of ${inputs.length} inputs does not fit a packed row (at most ${U8_MAX})`);
  const sorted = [...inputs].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let size = 2 + idBytes + 1;
  const nameBytes: number[] = [];
  for (const input of sorted) {
    const length = Buffer.byteLength(input.name, 'utf8');
    if (length > U16_MAX) throw new RangeError(`an input name of ${length} bytes does not fit a packed row (at most ${U16_MAX})`);
    if (datatypeInfo(input.datatype) === undefined) throw new RangeError(`input '${input.name}' has unknown datatype '${String(input.datatype)}'`);
    if (input.shape.length > U8_MAX) throw new RangeError(`input '${input.name}' has rank ${input.shape.length}: a packed row holds at most ${U8_MAX}`);
    if (input.raw.byteLength > U32_MAX) throw new RangeError(`input '${input.name}' holds ${input.raw.byteLength} bytes: a packed row holds at most ${U32_MAX}`);
    nameBytes.push(length);
    size += 2 + length + 1 + input.datatype.length + 1 + 8 * input.shape.length + 4 + input.raw.byteLength;
  }
  const out = Buffer.allocUnsafe(size);
  let offset = out.writeUInt16LE(idBytes, 0);
  offset += out.write(customId, offset, 'utf8');
  offset = out.writeUInt8(sorted.length, offset);
  sorted.forEach((input, index) => {
    offset = out.writeUInt16LE(nameBytes[index] as number, offset);
    offset += out.write(input.name, offset, 'utf8');
    offset = out.writeUInt8(input.datatype.length, offset);
    offset += out.write(input.datatype, offset, 'latin1');
    offset = out.writeUInt8(input.shape.length, offset);
    for (const dim of input.shape) offset = out.writeDoubleLE(dim, offset);
    offset = out.writeUInt32LE(input.raw.byteLength, offset);
    offset += input.raw.copy(out, offset);
  });
  return out;
}

/** A chunk of packed rows: the magic, then the rows in order. */
export function packChunk(rows: readonly Buffer[]): Buffer {
  return Buffer.concat([PACKED_CHUNK_MAGIC, ...rows]);
}

export function isPackedChunk(buffer: Buffer): boolean {
  return buffer.length >= PACKED_CHUNK_MAGIC.length && buffer.compare(PACKED_CHUNK_MAGIC, 0, PACKED_CHUNK_MAGIC.length, 0, PACKED_CHUNK_MAGIC.length) === 0;
}

/** An input header (name, datatype, shape) decoded once and reused while the next rows repeat its bytes. */
interface DecodedHeader {
  readonly start: number;
  readonly end: number;
  readonly name: string;
  readonly info: DatatypeInfo;
  readonly shape: readonly number[];
  readonly count: number;
}

/**
 * The rows of a packed chunk, ready for batching: each input's `raw` is a view of the chunk
 * (no copy), `data` is null. Rows of equal inputs share their name, datatype and shape
 * objects. Throws INTERNAL naming the row when the chunk is not well formed (chunks are
 * written by triage, so that is corruption, not a user error); messages never hold values.
 */
export function unpackChunk(chunk: Buffer): PreparedRow[] {
  if (!isPackedChunk(chunk)) throw new TriageError('INTERNAL', 'a stored chunk does not start with the packed rows magic');
  const reader = new PackedReader(chunk);
  const headers: (DecodedHeader | undefined)[] = [];
  const rows: PreparedRow[] = [];
  while (reader.offset < chunk.length) {
    const idLength = reader.u16('the custom_id length', -1);
    const idStart = reader.skip(idLength, 'the custom_id', -1);
    const customId = chunk.toString('utf8', idStart, idStart + idLength);
    const inputCount = reader.u8('the input count', -1);
    const inputs: PreparedInput[] = [];
    for (let index = 0; index < inputCount; index++) {
      const header = readHeader(reader, headers[index], index);
      headers[index] = header;
      const previous = inputs[index - 1];
      if (previous !== undefined && !(previous.name < header.name)) reader.corrupt(`input #${index} is out of name order`);
      const length = reader.u32('the data length', index);
      const start = reader.skip(length, 'the data', index);
      if (header.info.byteSize > 0 && length !== header.count * header.info.byteSize) {
        reader.corrupt(`input #${index} holds ${length} bytes of ${header.info.datatype}, its shape needs ${header.count * header.info.byteSize}`);
      }
      if (header.info.byteSize === 0) checkBytesElements(reader, start, length, header.count, index);
      inputs.push({ name: header.name, datatype: header.info.datatype, shape: header.shape, count: header.count, data: null, raw: chunk.subarray(start, start + length) });
    }
    rows.push({ customId, inputs });
    reader.row += 1;
  }
  return rows;
}

/** The custom_ids of a stored chunk, packed or legacy JSONL. Throws INTERNAL when it is corrupt. */
export function storedRowIds(chunk: Buffer): string[] {
  if (isPackedChunk(chunk)) return unpackChunk(chunk).map((row) => row.customId);
  return parseJobRows(chunk).map((row) => row.custom_id);
}

/** Reads an input's name, datatype and shape; the header of the row before at this position when its bytes are the same. */
function readHeader(reader: PackedReader, cached: DecodedHeader | undefined, index: number): DecodedHeader {
  const chunk = reader.chunk;
  const start = reader.offset;
  const nameLength = reader.u16('the name length', index);
  const nameStart = reader.skip(nameLength, 'the name', index);
  const datatypeLength = reader.u8('the datatype length', index);
  const datatypeStart = reader.skip(datatypeLength, 'the datatype', index);
  const rank = reader.u8('the rank', index);
  const dimsStart = reader.skip(8 * rank, 'the shape', index);
  const end = reader.offset;
  if (cached !== undefined && cached.end - cached.start === end - start && chunk.compare(chunk, cached.start, cached.end, start, end) === 0) return cached;
  const info = datatypeInfo(chunk.toString('latin1', datatypeStart, datatypeStart + datatypeLength));
  if (info === undefined) reader.corrupt(`input #${index} has an unknown datatype`);
  const shape: number[] = [];
  for (let axis = 0; axis < rank; axis++) {
    const dim = chunk.readDoubleLE(dimsStart + 8 * axis);
    if (!Number.isSafeInteger(dim) || dim < 0) reader.corrupt(`input #${index} has an invalid shape`);
    shape.push(dim);
  }
  const count = elementCount(shape);
  if (!Number.isSafeInteger(count)) reader.corrupt(`input #${index} has an invalid shape`);
  return { start, end, name: chunk.toString('utf8', nameStart, nameStart + nameLength), info, shape, count };
}

/** BYTES data is `count` elements, each a u32 length and that many bytes, filling the data exactly. */
function checkBytesElements(reader: PackedReader, start: number, length: number, count: number, index: number): void {
  const end = start + length;
  let offset = start;
  for (let element = 0; element < count; element++) {
    if (offset + 4 > end) reader.corrupt(`input #${index} (BYTES) holds fewer elements than its shape needs`);
    offset += 4 + reader.chunk.readUInt32LE(offset);
    if (offset > end) reader.corrupt(`input #${index} (BYTES) has an element past the end of its data`);
  }
  if (offset !== end) reader.corrupt(`input #${index} (BYTES) holds more bytes than its ${count} elements`);
}

/**
 * Bounds-checked little-endian reads over a packed chunk; every failure names the row
 * being read. `what` is a fixed text and `input` an index (-1: the row itself), so no
 * message is built unless a read fails.
 */
class PackedReader {
  offset = PACKED_CHUNK_MAGIC.length;
  row = 0;

  constructor(readonly chunk: Buffer) {}

  u8(what: string, input: number): number {
    this.need(1, what, input);
    return this.chunk.readUInt8(this.offset++);
  }

  u16(what: string, input: number): number {
    this.need(2, what, input);
    const value = this.chunk.readUInt16LE(this.offset);
    this.offset += 2;
    return value;
  }

  u32(what: string, input: number): number {
    this.need(4, what, input);
    const value = this.chunk.readUInt32LE(this.offset);
    this.offset += 4;
    return value;
  }

  /** Moves past `length` bytes; returns where they start. */
  skip(length: number, what: string, input: number): number {
    this.need(length, what, input);
    const start = this.offset;
    this.offset += length;
    return start;
  }

  corrupt(problem: string): never {
    throw new TriageError('INTERNAL', `a stored chunk is corrupt at row ${this.row}: ${problem}`);
  }

  private need(length: number, what: string, input: number): void {
    if (this.offset + length > this.chunk.length) this.corrupt(`it ends in ${what}${input < 0 ? '' : ` of input #${input}`} (truncated)`);
  }
}
