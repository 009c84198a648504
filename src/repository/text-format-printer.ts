import * as protobuf from 'protobufjs';
import { messageSchema, reflectionName, type FieldSchema, type MessageSchema, type ScalarType, type ValueKind } from './message-schema';
import { checkedInteger, enumNameOf, getOwn, isDefaultValue, isIntegerType, isPlainObject } from './scalar-values';

const INDENT = '  ';

/**
 * Prints `obj` (in the plain-object form parseTextFormat returns) as canonical text format:
 * two-space indentation, one field per line in .proto declaration order, repeated scalars as
 * `name: [ a, b ]`, repeated messages and map entries as repeated blocks, map entries sorted by
 * key, proto3 implicit-presence defaults and empty lists left out. For every object the parser
 * returns, parsing the output gives back a deep-equal object. Throws TypeError, naming the path,
 * when `obj` does not fit the schema.
 */
export function printTextFormat(type: protobuf.Type, obj: Readonly<Record<string, unknown>>): string {
  const lines: string[] = [];
  printMessage(messageSchema(type), obj, '', lines, '');
  return lines.map((line) => `${line}\n`).join('');
}

function invalid(path: string, problem: string): never {
  throw new TypeError(`${path === '' ? '' : `${path}: `}${problem}`);
}

function join(path: string, name: string): string {
  return path === '' ? name : `${path}.${name}`;
}

function printMessage(schema: MessageSchema, obj: unknown, indent: string, lines: string[], path: string): void {
  if (!isPlainObject(obj)) invalid(path, `expected a plain object for ${schema.fullName}`);
  const oneofs = new Map<string, string>();
  for (const key of Object.keys(obj)) {
    const field = schema.byName.get(key);
    if (field === undefined) invalid(path, `unknown field "${key}" in ${schema.fullName}`);
    if (field.oneof === undefined || obj[key] === undefined || obj[key] === null) continue;
    const other = oneofs.get(field.oneof);
    if (other !== undefined) invalid(path, `fields "${other}" and "${key}" both set in oneof "${field.oneof}"`);
    oneofs.set(field.oneof, key);
  }
  for (const field of schema.fields) {
    const value = getOwn(obj, field.name);
    if (value !== undefined && value !== null) printField(field, value, indent, lines, join(path, field.name));
  }
}

function printField(field: FieldSchema, value: unknown, indent: string, lines: string[], path: string): void {
  const { name, value: kind } = field;
  switch (field.label) {
    case 'singular':
      if (kind.kind === 'message') printBlock(name, messageSchema(kind.messageType), value, indent, lines, path);
      else if (field.hasPresence || !isDefaultValue(kind, value)) lines.push(`${indent}${name}: ${formatValue(kind, value, path)}`);
      return;
    case 'repeated': {
      if (!Array.isArray(value)) invalid(path, 'expected an array for a repeated field');
      const items: unknown[] = value;
      if (kind.kind === 'message') {
        items.forEach((item, i) => printBlock(name, messageSchema(kind.messageType), item, indent, lines, `${path}[${i}]`));
      } else if (items.length > 0) {
        lines.push(`${indent}${name}: [ ${items.map((item, i) => formatValue(kind, item, `${path}[${i}]`)).join(', ')} ]`);
      }
      return;
    }
    case 'map':
      printMap(field, value, indent, lines, path);
  }
}

function printBlock(name: string, schema: MessageSchema, value: unknown, indent: string, lines: string[], path: string): void {
  const body: string[] = [];
  printMessage(schema, value, indent + INDENT, body, path);
  if (body.length === 0) {
    lines.push(`${indent}${name} {}`);
  } else {
    lines.push(`${indent}${name} {`, ...body, `${indent}}`);
  }
}

function printMap(field: FieldSchema, value: unknown, indent: string, lines: string[], path: string): void {
  if (!isPlainObject(value)) invalid(path, 'expected a plain object for a map field');
  const keyType = field.mapKey ?? 'string';
  const keys = Object.keys(value).map((key) => ({ key, literal: formatMapKey(keyType, key, path) }));
  if (isIntegerType(keyType)) keys.sort((a, b) => (BigInt(a.key) < BigInt(b.key) ? -1 : 1));
  else keys.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  const inner = indent + INDENT;
  for (const { key, literal } of keys) {
    const entryPath = `${path}[${JSON.stringify(key)}]`;
    const mapped = value[key];
    lines.push(`${indent}${field.name} {`, `${inner}key: ${literal}`);
    if (field.value.kind === 'message') {
      printBlock('value', messageSchema(field.value.messageType), mapped, inner, lines, entryPath);
    } else if (mapped === undefined || mapped === null) {
      invalid(entryPath, 'a map value cannot be null or undefined');
    } else if (!isDefaultValue(field.value, mapped)) {
      lines.push(`${inner}value: ${formatValue(field.value, mapped, entryPath)}`);
    }
    lines.push(`${indent}}`);
  }
}

function formatMapKey(keyType: ScalarType, key: string, path: string): string {
  if (keyType === 'string') return quoteString(key, path);
  if (keyType === 'bool') {
    if (key !== 'true' && key !== 'false') invalid(path, `map key ${JSON.stringify(key)} is not "true" or "false"`);
    return key;
  }
  if (!isIntegerType(keyType) || !/^-?\d+$/.test(key)) invalid(path, `map key ${JSON.stringify(key)} is not a ${keyType}`);
  const checked = checkedInteger(keyType, BigInt(key));
  if (typeof checked !== 'number') invalid(path, `map key ${checked.problem}`);
  return String(checked);
}

function formatValue(kind: ValueKind, value: unknown, path: string): string {
  if (kind.kind === 'message') invalid(path, 'a message cannot be printed as a scalar');
  if (kind.kind === 'enum') {
    const name = typeof value === 'number' ? enumNameOf(kind.enumType, value) : value;
    if (typeof name !== 'string' || kind.enumType.values[name] === undefined) {
      invalid(path, `${String(value)} is not a value of enum ${reflectionName(kind.enumType)}`);
    }
    return name;
  }
  const { scalar } = kind;
  if (isIntegerType(scalar)) {
    if (!(typeof value === 'number' && Number.isInteger(value)) && typeof value !== 'bigint') invalid(path, `expected an integer for ${scalar}`);
    const checked = checkedInteger(scalar, BigInt(value));
    if (typeof checked !== 'number') invalid(path, checked.problem);
    return String(checked);
  }
  switch (scalar) {
    case 'double':
    case 'float':
      if (typeof value !== 'number') invalid(path, `expected a number for ${scalar}`);
      return formatFloat(value);
    case 'bool':
      if (typeof value !== 'boolean') invalid(path, 'expected a boolean');
      return String(value);
    case 'string':
      if (typeof value !== 'string') invalid(path, 'expected a string');
      return quoteString(value, path);
    case 'bytes':
      if (!(value instanceof Uint8Array)) invalid(path, 'expected a Buffer for bytes');
      return quoteBytes(value);
  }
}

/** Shortest text that reads back to the same double; text format spells the non-finite values inf and nan. */
function formatFloat(value: number): string {
  if (Number.isNaN(value)) return 'nan';
  if (value === Infinity) return 'inf';
  if (value === -Infinity) return '-inf';
  return Object.is(value, -0) ? '-0' : String(value);
}

const ESCAPES: Readonly<Record<string, string>> = { '\n': '\\n', '\r': '\\r', '\t': '\\t', '"': '\\"', '\\': '\\\\' };

const octal = (code: number): string => `\\${code.toString(8).padStart(3, '0')}`;

/** Double-quoted with C escapes; non-ASCII text stays readable as UTF-8. */
function quoteString(value: string, path: string): string {
  let out = '"';
  for (const ch of value) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch.length === 1 && code >= 0xd800 && code <= 0xdfff) invalid(path, 'string holds an unpaired UTF-16 surrogate');
    out += ESCAPES[ch] ?? (code < 0x20 || code === 0x7f ? octal(code) : ch);
  }
  return `${out}"`;
}

/** Double-quoted; bytes outside printable ASCII as three-digit octal escapes. */
function quoteBytes(value: Uint8Array): string {
  let out = '"';
  for (const byte of value) {
    const ch = String.fromCharCode(byte);
    out += ESCAPES[ch] ?? (byte < 0x20 || byte > 0x7e ? octal(byte) : ch);
  }
  return `${out}"`;
}
