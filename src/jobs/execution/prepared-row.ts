import { datatypeInfo, elementCount, type Datatype } from '../../protocol/datatypes';
import { tensorFromJson, type JsonTensorValue } from '../../protocol/json-tensor';
import type { JobRow } from '../job-record';
import { numericArrayType } from './fast-json-tensor';

/** One input of a row, checked for form but not yet converted when its datatype is numeric. */
export interface PreparedInput {
  readonly name: string;
  readonly datatype: Datatype;
  /** Without the batch dimension when the model batches. */
  readonly shape: readonly number[];
  readonly count: number;
  /** A legacy (JSONL) row's JSON values, written into the batch tensor when `raw` is null; null for a packed row. */
  readonly data: unknown;
  /**
   * Triton's raw bytes: every input of a packed row (a view of its chunk), and the inputs of
   * a legacy row whose datatype is not plain numbers (INT64, BOOL, BYTES, FP16, BF16).
   */
  readonly raw: Buffer | null;
}

/** A row ready for batching: its inputs sorted by name. */
export interface PreparedRow {
  readonly customId: string;
  readonly inputs: readonly PreparedInput[];
}

/**
 * Checks a legacy (JSONL) stored row's form (known datatypes, valid shapes) and converts
 * the inputs that are not plain numbers; numeric values are checked when written into the
 * batch. Throws a RangeError or TypeError naming the input (the row then fails alone;
 * rows were validated at create, so this is a guard, not the rule).
 */
export function prepareRow(row: JobRow): PreparedRow {
  const names = Object.keys(row.inputs).sort();
  if (names.length === 0) throw new RangeError('the row has no inputs');
  const inputs: PreparedInput[] = [];
  for (const name of names) {
    const input = row.inputs[name] as JobRow['inputs'][string];
    const info = datatypeInfo(input.datatype);
    if (info === undefined) throw new RangeError(`input '${name}' has unknown datatype '${String(input.datatype)}'`);
    if (!Array.isArray(input.shape) || input.shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) {
      throw new RangeError(`input '${name}' has an invalid shape`);
    }
    const raw = numericArrayType(info.datatype) === undefined ? tensorFromJson(name, info.datatype, input.shape, input.data as JsonTensorValue).data : null;
    inputs.push({ name, datatype: info.datatype, shape: input.shape, count: elementCount(input.shape), data: input.data, raw });
  }
  return { customId: row.custom_id, inputs };
}

/** True when two rows can share one batch: the same input names, datatypes and shapes. */
export function sameInputs(a: PreparedRow, b: PreparedRow): boolean {
  if (a.inputs.length !== b.inputs.length) return false;
  for (let index = 0; index < a.inputs.length; index++) {
    const x = a.inputs[index] as PreparedInput;
    const y = b.inputs[index] as PreparedInput;
    if (x.name !== y.name || x.datatype !== y.datatype || x.shape.length !== y.shape.length) return false;
    for (let axis = 0; axis < x.shape.length; axis++) if (x.shape[axis] !== y.shape[axis]) return false;
  }
  return true;
}
