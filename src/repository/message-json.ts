import * as protobuf from 'protobufjs';
import { messageSchema, type FieldSchema, type MessageSchema, type ScalarType, type ValueKind } from './message-schema';
import {
  checkedInteger, enumNameOf, floatRangeProblem, isDefaultValue, isIntegerType, isPlainObject, setOwn, unknownEnumProblem,
} from './scalar-values';

export { messageToJson } from './message-to-json';

/** protobuf's default recursion limit; deeper input is refused before it can exhaust the stack. */
const MAX_DEPTH = 100;

/** JSON that does not fit the message. `path` locates the offending value, e.g. `input[0].data_type`. */
export class MessageJsonError extends Error {
  override readonly name = 'MessageJsonError';

  constructor(
    readonly path: string,
    readonly reason: string,
  ) {
    super(path === '' ? reason : `${path}: ${reason}`);
  }
}

/**
 * Reads protobuf's JSON mapping of `type` the way Triton reads a `config` override
 * (JsonStringToMessage, unknown fields rejected, enum names matched case-insensitively): field
 * names in .proto or lowerCamelCase form, 64-bit integers as numbers or decimal strings, bytes
 * as base64, maps as objects. Returns the same plain-object form as parseTextFormat and throws
 * MessageJsonError on anything that does not fit.
 */
export function messageFromJson(type: protobuf.Type, json: unknown): Record<string, unknown> {
  return readMessage(messageSchema(type), json, '', 0);
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 37)}...` : value)}`;
  if (typeof value === 'object') return 'an object';
  return `${typeof value} ${String(value)}`;
}

function fail(path: string, reason: string): never {
  throw new MessageJsonError(path, reason);
}

function readMessage(schema: MessageSchema, json: unknown, path: string, depth: number): Record<string, unknown> {
  if (depth > MAX_DEPTH) fail(path, `messages nested more than ${MAX_DEPTH} deep`);
  if (!isPlainObject(json)) fail(path, `expected a JSON object for ${schema.fullName}, got ${describe(json)}`);
  const result: Record<string, unknown> = {};
  const spelledAs = new Map<string, string>();
  const oneofs = new Map<string, string>();
  for (const [key, value] of Object.entries(json)) {
    const at = path === '' ? key : `${path}.${key}`;
    const field = schema.byName.get(key) ?? schema.byJsonName.get(key);
    if (field === undefined) fail(at, `unknown field "${key}" in ${schema.fullName}`);
    const earlier = spelledAs.get(field.name);
    if (earlier !== undefined) fail(at, `field "${field.name}" given twice (as "${earlier}" and "${key}")`);
    spelledAs.set(field.name, key);
    // null means "not set" in protobuf's JSON mapping.
    if (value === null) continue;
    if (field.oneof !== undefined) {
      const other = oneofs.get(field.oneof);
      if (other !== undefined) fail(at, `field "${field.name}" conflicts with field "${other}": both belong to oneof "${field.oneof}"`);
      oneofs.set(field.oneof, field.name);
    }
    readField(field, value, at, result, depth);
  }
  return result;
}

function readField(field: FieldSchema, value: unknown, path: string, result: Record<string, unknown>, depth: number): void {
  switch (field.label) {
    case 'singular': {
      const read = readValue(field.value, value, path, depth);
      if (field.hasPresence || !isDefaultValue(field.value, read)) setOwn(result, field.name, read);
      return;
    }
    case 'repeated': {
      if (!Array.isArray(value)) fail(path, `expected an array for repeated field "${field.name}", got ${describe(value)}`);
      const items: unknown[] = value;
      const read = items.map((item, i) => readValue(field.value, item, `${path}[${i}]`, depth));
      if (read.length > 0) setOwn(result, field.name, read);
      return;
    }
    case 'map': {
      if (!isPlainObject(value)) fail(path, `expected an object for map field "${field.name}", got ${describe(value)}`);
      const map: Record<string, unknown> = {};
      for (const [key, mapped] of Object.entries(value)) {
        const at = `${path}[${JSON.stringify(key)}]`;
        setOwn(map, readMapKey(field.mapKey ?? 'string', key, at), readValue(field.value, mapped, at, depth));
      }
      if (Object.keys(map).length > 0) setOwn(result, field.name, map);
    }
  }
}

/** Map keys arrive as JSON object keys (strings) and are held in canonical string form. */
function readMapKey(keyType: ScalarType, key: string, path: string): string {
  if (keyType === 'string') return key;
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') fail(path, `map key ${JSON.stringify(key)} is not "true" or "false"`);
    return key;
  }
  return String(readValue({ kind: 'scalar', scalar: keyType }, key, path, 0));
}

/** `depth` counts the messages enclosing `value`; a nested message value sits one deeper. */
function readValue(kind: ValueKind, value: unknown, path: string, depth: number): unknown {
  if (value === null) fail(path, 'null is not allowed here');
  if (kind.kind === 'message') return readMessage(messageSchema(kind.messageType), value, path, depth + 1);
  if (kind.kind === 'enum') return readEnum(kind.enumType, value, path);
  const { scalar } = kind;
  if (isIntegerType(scalar)) {
    const exact =
      typeof value === 'number' && Number.isInteger(value) ? BigInt(value)
      : typeof value === 'string' && /^-?\d+$/.test(value) ? BigInt(value)
      : undefined;
    if (exact === undefined) fail(path, `expects an integer (a number or a decimal string), got ${describe(value)}`);
    const checked = checkedInteger(scalar, exact);
    if (typeof checked !== 'number') fail(path, checked.problem);
    return checked + 0; // + 0 turns -0 into 0
  }
  switch (scalar) {
    case 'double':
    case 'float':
      return readFloat(scalar, value, path);
    case 'bool':
      if (typeof value !== 'boolean') fail(path, `expects a boolean, got ${describe(value)}`);
      return value;
    case 'string':
      if (typeof value !== 'string') fail(path, `expects a string, got ${describe(value)}`);
      return value;
    case 'bytes':
      if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*={0,2}$/.test(value) || value.replace(/=+$/, '').length % 4 === 1) {
        fail(path, `expects base64-encoded bytes, got ${describe(value)}`);
      }
      return Buffer.from(value.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  }
}

function readFloat(scalar: 'float' | 'double', value: unknown, path: string): number {
  let read: number | undefined;
  if (typeof value === 'number') read = value;
  else if (value === 'NaN') read = NaN;
  else if (value === 'Infinity') read = Infinity;
  else if (value === '-Infinity') read = -Infinity;
  else if (typeof value === 'string' && value.trim() !== '' && Number.isFinite(Number(value))) read = Number(value);
  if (read === undefined) fail(path, `expects a number (or "NaN", "Infinity", "-Infinity"), got ${describe(value)}`);
  const problem = floatRangeProblem(scalar, read);
  if (problem !== undefined) fail(path, problem);
  return read;
}

/** By name (exact, then case-insensitive as Triton's parser allows) or by number. */
function readEnum(enumType: protobuf.Enum, value: unknown, path: string): string {
  if (typeof value === 'string') {
    const upper = value.toUpperCase();
    const name = enumType.values[value] !== undefined ? value : Object.keys(enumType.values).find((n) => n.toUpperCase() === upper);
    const number = name === undefined ? undefined : enumType.values[name];
    if (number === undefined) fail(path, unknownEnumProblem(enumType, value));
    return enumNameOf(enumType, number) ?? value;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    const name = enumNameOf(enumType, value);
    if (name === undefined) fail(path, unknownEnumProblem(enumType, value));
    return name;
  }
  return fail(path, `expects an enum name or number, got ${describe(value)}`);
}
