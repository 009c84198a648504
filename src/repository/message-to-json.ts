import * as protobuf from 'protobufjs';
import { messageSchema, reflectionName, type FieldSchema, type MessageSchema, type ValueKind } from './message-schema';
import { checkedInteger, enumNameOf, getOwn, is64BitType, isDefaultValue, isIntegerType, isPlainObject, setOwn } from './scalar-values';

/**
 * Writes `obj` (the plain-object form parseTextFormat and messageFromJson return) in protobuf's
 * JSON mapping with .proto field names, as protobuf's printer does with
 * preserving_proto_field_name: 64-bit integers as decimal strings, enums by name, bytes as
 * base64, non-finite floats as "NaN"/"Infinity"/"-Infinity", and implicit-presence defaults,
 * empty lists and empty maps left out. messageFromJson reads the result back to a deep-equal
 * object. Throws TypeError, naming the path, when `obj` does not fit the schema.
 */
export function messageToJson(type: protobuf.Type, obj: Readonly<Record<string, unknown>>): Record<string, unknown> {
  return writeMessage(messageSchema(type), obj, '');
}

function invalid(path: string, problem: string): never {
  throw new TypeError(`${path === '' ? '' : `${path}: `}${problem}`);
}

function writeMessage(schema: MessageSchema, obj: unknown, path: string): Record<string, unknown> {
  if (!isPlainObject(obj)) invalid(path, `expected a plain object for ${schema.fullName}`);
  for (const key of Object.keys(obj)) {
    if (!schema.byName.has(key)) invalid(path, `unknown field "${key}" in ${schema.fullName}`);
  }
  const json: Record<string, unknown> = {};
  for (const field of schema.fields) {
    const value = getOwn(obj, field.name);
    if (value === undefined || value === null) continue;
    const at = path === '' ? field.name : `${path}.${field.name}`;
    const written = writeField(field, value, at);
    if (written !== undefined) setOwn(json, field.name, written);
  }
  return json;
}

/** The JSON for one field, or undefined when protobuf's printer would leave it out. */
function writeField(field: FieldSchema, value: unknown, path: string): unknown {
  switch (field.label) {
    case 'singular':
      return field.hasPresence || !isDefaultValue(field.value, value) ? writeValue(field.value, value, path) : undefined;
    case 'repeated': {
      if (!Array.isArray(value)) invalid(path, 'expected an array for a repeated field');
      const items: unknown[] = value;
      return items.length === 0 ? undefined : items.map((item, i) => writeValue(field.value, item, `${path}[${i}]`));
    }
    case 'map': {
      if (!isPlainObject(value)) invalid(path, 'expected a plain object for a map field');
      const entries = Object.entries(value);
      if (entries.length === 0) return undefined;
      const map: Record<string, unknown> = {};
      for (const [key, mapped] of entries) setOwn(map, key, writeValue(field.value, mapped, `${path}[${JSON.stringify(key)}]`));
      return map;
    }
  }
}

function writeValue(kind: ValueKind, value: unknown, path: string): unknown {
  if (kind.kind === 'message') return writeMessage(messageSchema(kind.messageType), value, path);
  if (kind.kind === 'enum') {
    const name = typeof value === 'number' ? enumNameOf(kind.enumType, value) : value;
    if (typeof name !== 'string' || kind.enumType.values[name] === undefined) {
      invalid(path, `${String(value)} is not a value of enum ${reflectionName(kind.enumType)}`);
    }
    return name;
  }
  const { scalar } = kind;
  if (isIntegerType(scalar)) {
    if (typeof value !== 'number' || !Number.isInteger(value)) invalid(path, `expected an integer for ${scalar}`);
    const checked = checkedInteger(scalar, BigInt(value));
    if (typeof checked !== 'number') invalid(path, checked.problem);
    return is64BitType(scalar) ? String(checked) : checked;
  }
  switch (scalar) {
    case 'double':
    case 'float':
      if (typeof value !== 'number') invalid(path, `expected a number for ${scalar}`);
      if (Number.isNaN(value)) return 'NaN';
      if (value === Infinity) return 'Infinity';
      return value === -Infinity ? '-Infinity' : value;
    case 'bool':
      if (typeof value !== 'boolean') invalid(path, 'expected a boolean');
      return value;
    case 'string':
      if (typeof value !== 'string') invalid(path, 'expected a string');
      return value;
    case 'bytes':
      if (!(value instanceof Uint8Array)) invalid(path, 'expected a Buffer for bytes');
      return Buffer.from(value).toString('base64');
  }
}
