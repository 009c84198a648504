import { deserializeBytesElements, serializeBytesElements } from './bytes-tensor';
import type { Datatype } from './datatypes';

/**
 * InferTensorContents as decoded by our proto loader: 64-bit integers arrive as
 * decimal strings (lossless), the other numbers as JS numbers, bytes as Buffers.
 */
export interface TypedContents {
  bool_contents?: boolean[];
  int_contents?: number[];
  int64_contents?: (string | number)[];
  uint_contents?: number[];
  uint64_contents?: (string | number)[];
  fp32_contents?: number[];
  fp64_contents?: number[];
  bytes_contents?: Buffer[];
}

type FixedWriter = (out: Buffer, index: number, value: never) => void;

const WRITERS: Partial<Record<Datatype, { size: number; field: keyof TypedContents; write: FixedWriter }>> = {
  BOOL: { size: 1, field: 'bool_contents', write: ((o: Buffer, i: number, v: boolean) => { o[i] = v ? 1 : 0; }) as FixedWriter },
  INT8: { size: 1, field: 'int_contents', write: ((o: Buffer, i: number, v: number) => o.writeInt8(wrapSigned(v, 8), i)) as FixedWriter },
  INT16: { size: 2, field: 'int_contents', write: ((o: Buffer, i: number, v: number) => o.writeInt16LE(wrapSigned(v, 16), i * 2)) as FixedWriter },
  INT32: { size: 4, field: 'int_contents', write: ((o: Buffer, i: number, v: number) => o.writeInt32LE(v | 0, i * 4)) as FixedWriter },
  INT64: { size: 8, field: 'int64_contents', write: ((o: Buffer, i: number, v: string | number) => o.writeBigInt64LE(BigInt.asIntN(64, BigInt(v)), i * 8)) as FixedWriter },
  UINT8: { size: 1, field: 'uint_contents', write: ((o: Buffer, i: number, v: number) => { o[i] = v & 0xff; }) as FixedWriter },
  UINT16: { size: 2, field: 'uint_contents', write: ((o: Buffer, i: number, v: number) => o.writeUInt16LE(v & 0xffff, i * 2)) as FixedWriter },
  UINT32: { size: 4, field: 'uint_contents', write: ((o: Buffer, i: number, v: number) => o.writeUInt32LE(v >>> 0, i * 4)) as FixedWriter },
  UINT64: { size: 8, field: 'uint64_contents', write: ((o: Buffer, i: number, v: string | number) => o.writeBigUInt64LE(BigInt.asUintN(64, BigInt(v)), i * 8)) as FixedWriter },
  FP32: { size: 4, field: 'fp32_contents', write: ((o: Buffer, i: number, v: number) => o.writeFloatLE(v, i * 4)) as FixedWriter },
  FP64: { size: 8, field: 'fp64_contents', write: ((o: Buffer, i: number, v: number) => o.writeDoubleLE(v, i * 8)) as FixedWriter },
};

function wrapSigned(value: number, bits: 8 | 16): number {
  return bits === 8 ? (value << 24) >> 24 : (value << 16) >> 16;
}

/**
 * The raw little-endian form of typed contents, as Triton builds it internally.
 * Returns null when the datatype has no typed field (FP16, BF16) or the field that
 * the datatype needs is empty while another one holds values.
 */
export function typedContentsToRaw(datatype: Datatype, contents: TypedContents): Buffer | null {
  if (datatype === 'BYTES') return serializeBytesElements(contents.bytes_contents ?? []);
  const writer = WRITERS[datatype];
  if (writer === undefined) return null;
  const values = (contents[writer.field] ?? []) as never[];
  const out = Buffer.alloc(values.length * writer.size);
  for (let index = 0; index < values.length; index++) writer.write(out, index, values[index] as never);
  return out;
}

/** Number of values across every field of typed contents (to detect a wrong field). */
export function typedContentsValueCount(contents: TypedContents): number {
  let count = 0;
  for (const field of Object.keys(contents) as (keyof TypedContents)[]) count += contents[field]?.length ?? 0;
  return count;
}

/** Typed contents for a raw tensor: what a client sends when it does not use raw bytes. */
export function rawToTypedContents(datatype: Datatype, raw: Buffer): TypedContents {
  const view = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const read = <T>(size: number, get: (offset: number) => T): T[] => {
    const values: T[] = [];
    for (let offset = 0; offset + size <= raw.byteLength; offset += size) values.push(get(offset));
    return values;
  };
  switch (datatype) {
    case 'BOOL': return { bool_contents: read(1, (o) => view.getUint8(o) !== 0) };
    case 'INT8': return { int_contents: read(1, (o) => view.getInt8(o)) };
    case 'INT16': return { int_contents: read(2, (o) => view.getInt16(o, true)) };
    case 'INT32': return { int_contents: read(4, (o) => view.getInt32(o, true)) };
    case 'INT64': return { int64_contents: read(8, (o) => view.getBigInt64(o, true).toString()) };
    case 'UINT8': return { uint_contents: read(1, (o) => view.getUint8(o)) };
    case 'UINT16': return { uint_contents: read(2, (o) => view.getUint16(o, true)) };
    case 'UINT32': return { uint_contents: read(4, (o) => view.getUint32(o, true)) };
    case 'UINT64': return { uint64_contents: read(8, (o) => view.getBigUint64(o, true).toString()) };
    case 'FP32': return { fp32_contents: read(4, (o) => view.getFloat32(o, true)) };
    case 'FP64': return { fp64_contents: read(8, (o) => view.getFloat64(o, true)) };
    case 'BYTES': return { bytes_contents: deserializeBytesElements(raw) ?? [] };
    case 'FP16':
    case 'BF16':
      throw new RangeError(`${datatype} has no typed contents field; send it as raw bytes`);
  }
}
