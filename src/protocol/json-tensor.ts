import { deserializeBytesElements } from './bytes-tensor';
import { elementCount, formatShape, type Datatype } from './datatypes';
import { bf16ToNumber, fp16ToNumber, numberToBf16, numberToFp16 } from './half-float';
import type { Tensor } from './tensor';
import { rawToTypedContents, typedContentsToRaw, type TypedContents } from './typed-contents';

export type JsonTensorValue = number | string | boolean | JsonTensorValue[];

/** The shape of a nested JSON array ([[1,2],[3,4]] -> [2,2]); throws on ragged arrays. */
export function nestedShape(value: JsonTensorValue, path = 'data'): number[] {
  if (!Array.isArray(value)) return [];
  const inner = value.length > 0 ? nestedShape(value[0] as JsonTensorValue, `${path}[0]`) : [];
  value.forEach((item, index) => {
    const shape = nestedShape(item, `${path}[${index}]`);
    if (shape.length !== inner.length || shape.some((dim, axis) => dim !== inner[axis])) {
      throw new RangeError(`${path} is ragged: ${path}[${index}] has shape ${formatShape(shape)}, ${path}[0] has ${formatShape(inner)}`);
    }
  });
  return [value.length, ...inner];
}

/**
 * A tensor from JSON values (nested or flat, row-major) and a shape: numbers for numeric
 * types, booleans for BOOL, strings for BYTES (UTF-8), INT64/UINT64 as numbers or
 * decimal strings, FP16/BF16 as numbers (rounded to nearest even).
 */
export function tensorFromJson(name: string, datatype: Datatype, shape: readonly number[], data: JsonTensorValue): Tensor {
  const flat = flatten(data);
  if (flat.length !== elementCount(shape)) {
    throw new RangeError(`input '${name}' has ${flat.length} values but shape ${formatShape(shape)} needs ${elementCount(shape)}`);
  }
  if (datatype === 'FP16' || datatype === 'BF16') return { name, datatype, shape, data: halfFloats(name, datatype, flat) };
  const raw = typedContentsToRaw(datatype, typedFromFlat(name, datatype, flat));
  if (raw === null) throw new RangeError(`input '${name}': ${datatype} cannot be written as JSON values; send raw bytes`);
  return { name, datatype, shape, data: raw };
}

function flatten(value: JsonTensorValue): (number | string | boolean)[] {
  if (!Array.isArray(value)) return [value];
  const out: (number | string | boolean)[] = [];
  const walk = (item: JsonTensorValue): void => {
    if (Array.isArray(item)) item.forEach(walk);
    else out.push(item);
  };
  walk(value);
  return out;
}

function halfFloats(name: string, datatype: 'FP16' | 'BF16', flat: (number | string | boolean)[]): Buffer {
  const out = Buffer.alloc(flat.length * 2);
  const encode = datatype === 'FP16' ? numberToFp16 : numberToBf16;
  flat.forEach((value, index) => {
    if (typeof value !== 'number') throw new TypeError(`input '${name}' (${datatype}) value #${index} is ${JSON.stringify(value)}, expected a number`);
    out.writeUInt16LE(encode(value), index * 2);
  });
  return out;
}

function typedFromFlat(name: string, datatype: Datatype, flat: (number | string | boolean)[]): TypedContents {
  const expect = (kind: 'number' | 'string' | 'boolean'): void => {
    const bad = flat.findIndex((value) => typeof value !== kind && !(kind === 'number' && typeof value === 'string' && /^-?[0-9]+$/.test(value)));
    if (bad >= 0) throw new TypeError(`input '${name}' (${datatype}) value #${bad} is ${JSON.stringify(flat[bad])}, expected a ${kind}`);
  };
  switch (datatype) {
    case 'BOOL': expect('boolean'); return { bool_contents: flat as boolean[] };
    case 'BYTES': expect('string'); return { bytes_contents: (flat as string[]).map((text) => Buffer.from(text, 'utf8')) };
    case 'INT64': expect('number'); return { int64_contents: flat as (string | number)[] };
    case 'UINT64': expect('number'); return { uint64_contents: flat as (string | number)[] };
    case 'INT8': case 'INT16': case 'INT32': expect('number'); return { int_contents: flat.map(Number) };
    case 'UINT8': case 'UINT16': case 'UINT32': expect('number'); return { uint_contents: flat.map(Number) };
    case 'FP32': expect('number'); return { fp32_contents: flat.map(Number) };
    case 'FP64': expect('number'); return { fp64_contents: flat.map(Number) };
    case 'FP16': case 'BF16': return {};
  }
}

/** A tensor's values as a nested JSON array of its shape (INT64/UINT64 beyond 2^53 as strings, BYTES as UTF-8 strings). */
export function tensorToJson(tensor: Tensor): JsonTensorValue {
  const flat = flatValues(tensor);
  const nest = (offset: number, axis: number): [JsonTensorValue, number] => {
    if (axis === tensor.shape.length) return [flat[offset] as JsonTensorValue, offset + 1];
    const items: JsonTensorValue[] = [];
    let next = offset;
    for (let index = 0; index < (tensor.shape[axis] ?? 0); index++) {
      const [item, after] = nest(next, axis + 1);
      items.push(item);
      next = after;
    }
    return [items, next];
  };
  return nest(0, 0)[0];
}

function flatValues(tensor: Tensor): JsonTensorValue[] {
  if (tensor.datatype === 'BYTES') return (deserializeBytesElements(tensor.data) ?? []).map((element) => element.toString('utf8'));
  if (tensor.datatype === 'FP16' || tensor.datatype === 'BF16') {
    const decode = tensor.datatype === 'FP16' ? fp16ToNumber : bf16ToNumber;
    return Array.from({ length: tensor.data.byteLength / 2 }, (_, index) => decode(tensor.data.readUInt16LE(index * 2)));
  }
  const contents = rawToTypedContents(tensor.datatype, tensor.data);
  const values = Object.values(contents)[0] as (number | string | boolean)[] | undefined ?? [];
  return values.map((value) => (typeof value === 'string' && Number.isSafeInteger(Number(value)) ? Number(value) : value));
}

