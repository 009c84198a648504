import * as protobuf from 'protobufjs';
import { reflectionName, type ScalarType, type ValueKind } from './message-schema';

export type IntegerType = Extract<
  ScalarType,
  'int32' | 'sint32' | 'sfixed32' | 'uint32' | 'fixed32' | 'int64' | 'sint64' | 'sfixed64' | 'uint64' | 'fixed64'
>;

const INTEGER_RANGES: Readonly<Record<IntegerType, readonly [bigint, bigint]>> = {
  int32: [-(2n ** 31n), 2n ** 31n - 1n],
  sint32: [-(2n ** 31n), 2n ** 31n - 1n],
  sfixed32: [-(2n ** 31n), 2n ** 31n - 1n],
  uint32: [0n, 2n ** 32n - 1n],
  fixed32: [0n, 2n ** 32n - 1n],
  int64: [-(2n ** 63n), 2n ** 63n - 1n],
  sint64: [-(2n ** 63n), 2n ** 63n - 1n],
  sfixed64: [-(2n ** 63n), 2n ** 63n - 1n],
  uint64: [0n, 2n ** 64n - 1n],
  fixed64: [0n, 2n ** 64n - 1n],
};

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

export function isIntegerType(scalar: ScalarType): scalar is IntegerType {
  return scalar in INTEGER_RANGES;
}

/** The 64-bit types, which protobuf's JSON mapping writes as strings. */
export function is64BitType(scalar: ScalarType): boolean {
  return scalar.endsWith('64');
}

/**
 * `value` as a JS number, or why it cannot be one: outside the proto type's range, or (64-bit
 * types only) beyond ±2^53−1, where a number would silently lose precision.
 */
export function checkedInteger(scalar: IntegerType, value: bigint): number | { readonly problem: string } {
  const [min, max] = INTEGER_RANGES[scalar];
  if (value < min || value > max) return { problem: `value ${value} out of range for ${scalar}` };
  if (value > MAX_SAFE || value < -MAX_SAFE) {
    return { problem: `value ${value} of ${scalar} is beyond ±${MAX_SAFE} and cannot be held exactly as a JavaScript number` };
  }
  return Number(value);
}

const FLOAT_MAX = 3.4028234663852886e38;

/**
 * Why `value` does not fit `float`, or undefined. Finite values beyond float's range are refused
 * rather than silently turned into infinity; precision is never reduced (0.1 stays 0.1).
 */
export function floatRangeProblem(scalar: 'float' | 'double', value: number): string | undefined {
  if (scalar === 'float' && Number.isFinite(value) && Math.abs(value) > FLOAT_MAX) return `value ${value} out of range for float`;
  return undefined;
}

export function enumNames(enumType: protobuf.Enum): string {
  return Object.keys(enumType.values).join(', ');
}

/** The canonical (first declared) name of enum number `value`, or undefined if it has none. */
export function enumNameOf(enumType: protobuf.Enum, value: number): string | undefined {
  return enumType.valuesById[value];
}

export function unknownEnumProblem(enumType: protobuf.Enum, value: string | number): string {
  const shown = typeof value === 'string' ? JSON.stringify(value) : String(value);
  return `unknown enum value ${shown} for ${reflectionName(enumType)} (expected one of ${enumNames(enumType)})`;
}

/** The value an unset field reads as, in the plain-object form the codecs produce. */
export function defaultValue(kind: ValueKind): unknown {
  switch (kind.kind) {
    case 'message':
      return {};
    case 'enum':
      return enumNameOf(kind.enumType, 0) ?? Object.keys(kind.enumType.values)[0];
    case 'scalar':
      switch (kind.scalar) {
        case 'string': return '';
        case 'bytes': return Buffer.alloc(0);
        case 'bool': return false;
        default: return 0;
      }
  }
}

/** True when `value` equals the default; -0 is not the default, as in protobuf (it keeps the sign bit). */
export function isDefaultValue(kind: ValueKind, value: unknown): boolean {
  if (kind.kind === 'message') return false;
  if (Buffer.isBuffer(value)) return value.length === 0;
  return Object.is(value, defaultValue(kind));
}

/** Sets an own enumerable property, so keys such as `__proto__` in a map stay plain data. */
export function setOwn(target: Record<string, unknown>, key: string, value: unknown): void {
  Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Own property lookup that ignores the prototype chain. */
export function getOwn(source: Readonly<Record<string, unknown>>, key: string): unknown {
  return Object.prototype.hasOwnProperty.call(source, key) ? source[key] : undefined;
}

export function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value) || Buffer.isBuffer(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
