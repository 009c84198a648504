import { tensorFromJson, type JsonTensorValue } from '../../protocol/json-tensor';
import type { Tensor } from '../../protocol/tensor';
import { fillNumeric, numericArrayType, type NumericArray } from './fast-json-tensor';
import type { PreparedInput, PreparedRow } from './prepared-row';

/** A batch's input tensors, the rows in them (in order), and the rows left out with why. */
export interface BatchTensors {
  readonly tensors: readonly Tensor[];
  readonly rows: readonly PreparedRow[];
  readonly refused: readonly { readonly row: PreparedRow; readonly error: unknown }[];
}

/**
 * Stacks rows of equal inputs into one tensor per input, numeric values written straight
 * into one typed array per input (no per-row buffers): a packed row's raw bytes are copied
 * into its slot, a legacy row's JSON numbers written there. A row whose values do not fit
 * its datatype and shape is left out (the next row takes its slot) and reported in
 * `refused`. With `batched` the tensors get a leading batch dimension; else `rows` holds
 * one row and the shape is the row's own.
 */
export function batchTensors(rows: readonly PreparedRow[], batched: boolean): BatchTensors {
  const first = rows[0];
  if (first === undefined) return { tensors: [], rows: [], refused: [] };
  const arrays: (NumericArray | null)[] = first.inputs.map((input) => {
    const Type = numericArrayType(input.datatype);
    return Type === undefined ? null : new Type(rows.length * input.count);
  });
  // The same memory as each typed array, as bytes: where raw bytes are copied.
  const bytes: (Uint8Array | null)[] = arrays.map((array) => (array === null ? null : new Uint8Array(array.buffer, array.byteOffset, array.byteLength)));
  const raws: Buffer[][] = first.inputs.map(() => []);
  const included: PreparedRow[] = [];
  const refused: { row: PreparedRow; error: unknown }[] = [];
  for (const row of rows) {
    const slot = included.length;
    let error: unknown = null;
    for (let index = 0; index < row.inputs.length && error === null; index++) {
      const input = row.inputs[index] as PreparedInput;
      const array = arrays[index];
      if (array === null || array === undefined) (raws[index] as Buffer[])[slot] = input.raw ?? Buffer.alloc(0);
      else if (input.raw !== null) error = copyRaw(bytes[index] as Uint8Array, array.BYTES_PER_ELEMENT, slot, input, input.raw);
      else if (!fillNumeric(array, slot * input.count, input.count, input.data)) error = fillSlow(array, slot, input);
    }
    if (error === null) included.push(row);
    else refused.push({ row, error });
  }
  const count = included.length;
  const tensors = first.inputs.map((input, index): Tensor => {
    const array = arrays[index];
    const data = array === null || array === undefined
      ? Buffer.concat((raws[index] as Buffer[]).slice(0, count))
      : Buffer.from(array.buffer, array.byteOffset, count * input.count * array.BYTES_PER_ELEMENT);
    return { name: input.name, datatype: input.datatype, shape: batched ? [count, ...input.shape] : input.shape, data };
  });
  return { tensors, rows: included, refused };
}

/** Copies a row's raw bytes into its slot; returns a RangeError naming the input when their length is not the slot's. */
function copyRaw(bytes: Uint8Array, bytesPerElement: number, slot: number, input: PreparedInput, raw: Buffer): RangeError | null {
  const length = input.count * bytesPerElement;
  if (raw.byteLength !== length) return new RangeError(`input '${input.name}' holds ${raw.byteLength} bytes of ${input.datatype}, its shape needs ${length}`);
  bytes.set(raw, slot * length);
  return null;
}

/**
 * The forms the fast path does not take (numbers as decimal strings, for instance) go
 * through tensorFromJson; returns its error, or null once the values are in the slot.
 */
function fillSlow(array: NumericArray, slot: number, input: PreparedInput): unknown {
  try {
    const tensor = tensorFromJson(input.name, input.datatype, input.shape, input.data as JsonTensorValue);
    const copy = new Uint8Array(tensor.data).buffer;
    array.set(new (array.constructor as new (buffer: ArrayBufferLike) => NumericArray)(copy), slot * input.count);
    return null;
  } catch (error) {
    return error;
  }
}
