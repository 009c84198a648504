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
 * into one typed array per input (no per-row buffers). A row whose values do not fit its
 * datatype and shape is left out (the next row takes its slot) and reported in `refused`.
 * With `batched` the tensors get a leading batch dimension; else `rows` holds one row and
 * the shape is the row's own.
 */
export function batchTensors(rows: readonly PreparedRow[], batched: boolean): BatchTensors {
  const first = rows[0];
  if (first === undefined) return { tensors: [], rows: [], refused: [] };
  const arrays: (NumericArray | null)[] = first.inputs.map((input) => {
    const Type = numericArrayType(input.datatype);
    return Type === undefined ? null : new Type(rows.length * input.count);
  });
  const raws: Buffer[][] = first.inputs.map(() => []);
  const included: PreparedRow[] = [];
  const refused: { row: PreparedRow; error: unknown }[] = [];
  for (const row of rows) {
    const slot = included.length;
    let error: unknown = null;
    row.inputs.forEach((input, index) => {
      if (error !== null) return;
      const array = arrays[index];
      if (array === null || array === undefined) (raws[index] as Buffer[])[slot] = input.raw ?? Buffer.alloc(0);
      else if (!fillNumeric(array, slot * input.count, input.count, input.data)) error = fillSlow(array, slot, input);
    });
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
