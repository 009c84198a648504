import * as protobuf from 'protobufjs';

export type ScalarType =
  | 'double' | 'float'
  | 'int32' | 'uint32' | 'sint32' | 'fixed32' | 'sfixed32'
  | 'int64' | 'uint64' | 'sint64' | 'fixed64' | 'sfixed64'
  | 'bool' | 'string' | 'bytes';

const SCALAR_TYPES: ReadonlySet<string> = new Set<ScalarType>([
  'double', 'float', 'int32', 'uint32', 'sint32', 'fixed32', 'sfixed32',
  'int64', 'uint64', 'sint64', 'fixed64', 'sfixed64', 'bool', 'string', 'bytes',
]);

/** What one value of a field is: a scalar, an enum (held by name), or a nested message. */
export type ValueKind =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType }
  | { readonly kind: 'enum'; readonly enumType: protobuf.Enum }
  | { readonly kind: 'message'; readonly messageType: protobuf.Type };

/**
 * A protobufjs field reduced to what the text and JSON codecs need. For a map field, `value`
 * is the map's value kind and `entry` is the synthetic `{ key, value }` message that text format
 * writes each entry as.
 */
export interface FieldSchema {
  readonly name: string;
  readonly jsonName: string;
  readonly label: 'singular' | 'repeated' | 'map';
  readonly value: ValueKind;
  readonly mapKey: ScalarType | undefined;
  readonly entry: MessageSchema | undefined;
  /** False for proto3 implicit-presence scalars: their default value is the same as unset, and is never stored. */
  readonly hasPresence: boolean;
  readonly required: boolean;
  /** Name of the (real or synthetic) oneof the field belongs to. */
  readonly oneof: string | undefined;
}

export interface MessageSchema {
  /** Full name without the leading dot, e.g. `inference.ModelConfig`. */
  readonly fullName: string;
  /** In .proto declaration order. */
  readonly fields: readonly FieldSchema[];
  readonly byName: ReadonlyMap<string, FieldSchema>;
  readonly byJsonName: ReadonlyMap<string, FieldSchema>;
}

/** `.inference.DataType` → `inference.DataType`. */
export function reflectionName(object: protobuf.ReflectionObject): string {
  return object.fullName.replace(/^\./, '');
}

/** protobuf's ToJsonName: drop each `_` and upper-case the character after it. */
export function toJsonName(name: string): string {
  return name.replace(/_+(.?)/g, (_match, next: string) => next.toUpperCase());
}

function scalarType(type: string, where: string): ScalarType {
  if (!SCALAR_TYPES.has(type)) throw new Error(`${where}: "${type}" is not a scalar type`);
  return type as ScalarType;
}

function valueKind(field: protobuf.Field): ValueKind {
  field.resolve();
  const resolved = field.resolvedType;
  if (resolved instanceof protobuf.Type) return { kind: 'message', messageType: resolved };
  if (resolved instanceof protobuf.Enum) return { kind: 'enum', enumType: resolved };
  return { kind: 'scalar', scalar: scalarType(field.type, reflectionName(field)) };
}

function buildSchema(fullName: string, fields: readonly FieldSchema[]): MessageSchema {
  return {
    fullName,
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    byJsonName: new Map(fields.map((f) => [f.jsonName, f])),
  };
}

function entrySchema(field: protobuf.MapField, value: ValueKind): MessageSchema {
  const part = (name: string, kind: ValueKind): FieldSchema => ({
    name, jsonName: name, label: 'singular', value: kind, mapKey: undefined, entry: undefined,
    hasPresence: true, required: false, oneof: undefined,
  });
  const key: ValueKind = { kind: 'scalar', scalar: scalarType(field.keyType, reflectionName(field)) };
  return buildSchema(`map entry of ${reflectionName(field)}`, [part('key', key), part('value', value)]);
}

function fieldSchema(field: protobuf.Field): FieldSchema {
  const value = valueKind(field);
  const isMap = field instanceof protobuf.MapField;
  const jsonOption: unknown = field.getOption('json_name');
  return {
    name: field.name,
    jsonName: typeof jsonOption === 'string' ? jsonOption : toJsonName(field.name),
    label: isMap ? 'map' : field.repeated ? 'repeated' : 'singular',
    value,
    mapKey: isMap ? scalarType(field.keyType, reflectionName(field)) : undefined,
    entry: isMap ? entrySchema(field, value) : undefined,
    // protobufjs derives presence from proto3 features, which wrongly says "implicit" for
    // singular message fields; messages always have presence.
    hasPresence: !isMap && !field.repeated && (value.kind === 'message' || Boolean(field.hasPresence)),
    required: field.required,
    oneof: field.partOf?.name,
  };
}

const cache = new WeakMap<protobuf.Type, MessageSchema>();

/**
 * The schema of `type`, computed once per Type. Field names are taken as protobufjs holds them,
 * so the Type must come from a Root loaded with `keepCase: true` to see .proto (snake_case) names.
 */
export function messageSchema(type: protobuf.Type): MessageSchema {
  let schema = cache.get(type);
  if (schema === undefined) {
    schema = buildSchema(reflectionName(type), type.fieldsArray.map(fieldSchema));
    cache.set(type, schema);
  }
  return schema;
}
