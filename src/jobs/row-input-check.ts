import { isTriageError } from '../errors/triage-error';
import { elementCount, formatShape } from '../protocol/datatypes';
import { nestedShape, type JsonTensorValue } from '../protocol/json-tensor';
import { jsonTensorData } from '../proxy/rest/json-tensor-data';
import type { InputSignature } from './model-signature';
import type { RowTensor } from './packed-rows';

/** One input of a row checked against its signature: the tensor to store (its raw bytes), or what is wrong (`field` under inputs.NAME). */
export type InputCheck = { readonly tensor: RowTensor } | { readonly field: string; readonly rule: string };

const TENSOR_MEMBERS = new Set(['name', 'datatype', 'shape', 'data']);

/**
 * Checks one input of a row: a nested array of values (its shape read from the nesting), or
 * a KServe v2 JSON tensor {"datatype"?, "shape", "data"} (data flat or nested). When the
 * model batches (max_batch_size > 0) a row is ONE inference: its shape is the config's dims,
 * or those dims after a batch dimension of exactly 1, which is dropped. Without batching the
 * shape must match the dims as given. -1 in the dims matches any size. Values must fit the
 * datatype (KServe's JSON rules). What is stored is the input's raw bytes (Triton's raw form).
 */
export function checkRowInput(signature: InputSignature, value: unknown, maxBatchSize: number): InputCheck {
  const { name, datatype, dims } = signature;
  let shape: number[];
  let data: unknown;
  if (Array.isArray(value)) {
    try {
      shape = nestedShape(value as JsonTensorValue, name);
    } catch (error) {
      const message = (error as Error).message;
      return { field: '', rule: message.startsWith(`${name} `) ? message.slice(name.length + 1) : message };
    }
    data = value;
  } else if (value !== null && typeof value === 'object') {
    const tensor = value as Record<string, unknown>;
    const unknown = Object.keys(tensor).find((member) => !TENSOR_MEMBERS.has(member));
    if (unknown !== undefined) return { field: `.${unknown}`, rule: 'is not a member of a tensor (known: datatype, shape, data)' };
    if (tensor['name'] !== undefined && tensor['name'] !== name) return { field: '.name', rule: `must be ${JSON.stringify(name)} (the key it is under) when given` };
    if (tensor['datatype'] !== undefined && tensor['datatype'] !== datatype) return { field: '.datatype', rule: `is ${JSON.stringify(tensor['datatype'])}, but the model's input is ${datatype}` };
    const given = tensor['shape'];
    if (!Array.isArray(given) || !given.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) {
      return { field: '.shape', rule: 'must be a list of non-negative integers' };
    }
    shape = given as number[];
    data = tensor['data'];
    if (!Array.isArray(data)) return { field: '.data', rule: 'must be an array of the tensor\'s values (flat or nested, row-major)' };
  } else {
    return { field: '', rule: 'must be a nested array of values, or a tensor {"shape": [...], "data": [...]}' };
  }
  const rowShape = maxBatchSize > 0 && shape.length === dims.length + 1 ? dropBatchDimension(shape) : shape;
  if (typeof rowShape === 'string') return { field: '.shape', rule: rowShape };
  const mismatch = shapeMismatch(rowShape, dims, maxBatchSize);
  if (mismatch !== null) return { field: '.shape', rule: mismatch };
  let raw: Buffer;
  try {
    raw = jsonTensorData(name, datatype, rowShape, data);
  } catch (error) {
    if (!isTriageError(error)) throw error;
    return { field: '', rule: error.message.replace(`input '${name}' `, '').replace(`input '${name}': `, '') };
  }
  return { tensor: { name, datatype, shape: rowShape, raw } };
}

/** A shape with a leading batch dimension: without it when that dimension is 1, else why not. */
function dropBatchDimension(shape: readonly number[]): number[] | string {
  if (shape[0] !== 1) return `has a batch dimension of ${String(shape[0])}: a row is one inference, so its batch dimension must be 1 or left out`;
  return shape.slice(1);
}

function shapeMismatch(shape: readonly number[], dims: readonly number[], maxBatchSize: number): string | null {
  const expected = `${formatShape(dims)}${maxBatchSize > 0 ? ' (one inference, without the batch dimension)' : ''}`;
  if (shape.length !== dims.length) return `is ${formatShape(shape)}, but the model expects ${expected}`;
  for (let axis = 0; axis < dims.length; axis++) {
    const dim = dims[axis] as number;
    if (dim !== -1 && dim !== shape[axis]) return `is ${formatShape(shape)}, but the model expects ${expected}`;
  }
  if (!Number.isSafeInteger(elementCount(shape))) return `${formatShape(shape)} holds too many values`;
  return null;
}
