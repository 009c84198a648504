import { endianness } from 'node:os';
import { elementCount, type Datatype } from '../../protocol/datatypes';
import type { Tensor } from '../../protocol/tensor';

export type NumericArray = Float32Array | Float64Array | Int8Array | Int16Array | Int32Array | Uint8Array | Uint16Array | Uint32Array;
export type NumericArrayType = { new (length: number): NumericArray; new (buffer: ArrayBufferLike, byteOffset: number, length: number): NumericArray; readonly BYTES_PER_ELEMENT: number };

/**
 * The datatypes whose raw form is a typed array of JS numbers (on a little-endian machine,
 * where a typed array's bytes are Triton's raw form). Conversions match json-tensor.ts:
 * floats rounded to nearest, integers wrapped as the typed array does (as `| 0` and `& 0xff` do).
 */
const NUMERIC: Readonly<Partial<Record<Datatype, NumericArrayType>>> = endianness() !== 'LE' ? {} : {
  FP32: Float32Array, FP64: Float64Array, INT8: Int8Array, INT16: Int16Array, INT32: Int32Array, UINT8: Uint8Array, UINT16: Uint16Array, UINT32: Uint32Array,
};

/** The typed array holding a datatype's raw form, or undefined when it has none (INT64, BOOL, BYTES, FP16, BF16). */
export function numericArrayType(datatype: Datatype): NumericArrayType | undefined {
  return NUMERIC[datatype];
}

/**
 * Writes JSON numbers (flat, or nested in any way, as tensorFromJson accepts them) into
 * `out` from `offset`: the job worker's hot path, with no intermediate arrays. False when
 * a value is not a number or there are not exactly `count` of them (the caller then asks
 * tensorFromJson, which accepts a few more forms or says what is wrong).
 */
export function fillNumeric(out: NumericArray, offset: number, count: number, data: unknown): boolean {
  const end = offset + count;
  let index = offset;
  const walk = (value: unknown): boolean => {
    if (Array.isArray(value)) {
      for (const item of value) if (!walk(item)) return false;
      return true;
    }
    if (typeof value !== 'number' || index >= end) return false;
    out[index++] = value;
    return true;
  };
  return walk(data) && index === end;
}

/**
 * A batched numeric tensor cut into rows, each as the JSON text of a nested array of the
 * row's shape (the shape without its batch dimension), written straight from the typed
 * array; null for other datatypes, or when a value is not finite (JSON has no NaN or
 * Infinity): the caller then uses tensorToJson and JSON.stringify.
 */
export function fastRowsToJsonText(tensor: Tensor, rowCount: number): string[] | null {
  const Type = NUMERIC[tensor.datatype];
  if (Type === undefined) return null;
  const rowShape = tensor.shape.slice(1);
  const perRow = elementCount(rowShape);
  if ((tensor.shape[0] ?? -1) !== rowCount || tensor.data.byteLength !== rowCount * perRow * Type.BYTES_PER_ELEMENT) return null;
  // A typed array needs its offset aligned to its element size: copy when the decoder's buffer is not.
  const data = tensor.data.byteOffset % Type.BYTES_PER_ELEMENT === 0 ? tensor.data : Buffer.from(tensor.data);
  const view = new Type(data.buffer, data.byteOffset, rowCount * perRow);
  for (let index = 0; index < view.length; index++) if (!Number.isFinite(view[index])) return null;
  const rows: string[] = [];
  for (let row = 0; row < rowCount; row++) rows.push(nestText(view, row * perRow, rowShape, 0));
  return rows;
}

/** Typed arrays print their numbers as JSON does (shortest round-trip form; -0 as 0). */
function nestText(view: NumericArray, offset: number, shape: readonly number[], axis: number): string {
  if (axis === shape.length) return String(view[offset] as number);
  const size = shape[axis] as number;
  if (axis === shape.length - 1) return `[${view.subarray(offset, offset + size).join(',')}]`;
  const stride = elementCount(shape.slice(axis + 1));
  const items: string[] = [];
  for (let index = 0; index < size; index++) items.push(nestText(view, offset + index * stride, shape, axis + 1));
  return `[${items.join(',')}]`;
}
