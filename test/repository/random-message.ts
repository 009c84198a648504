import * as protobuf from 'protobufjs';
import { messageSchema, type FieldSchema, type ScalarType, type ValueKind } from '../../src/repository/message-schema';

/** Deterministic PRNG (mulberry32), so a failing seed can be replayed. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const STRINGS = ['', 'a', 'INPUT0', 'with "quotes"', "it's", 'back\\slash', 'tab\tnew\nline\r', '\u0000\u0001\u007f', 'é ü 中文', '😀', '#not a comment', '{ } < > [ ]'];
const FLOATS = [0, -0, 1, -1, 0.1, 1.5, -2.75, 1e-7, 1e21, 3.4e38, 123456.789, Number.MAX_VALUE, Number.MIN_VALUE, Infinity, -Infinity, NaN];
const INT_LIMITS: Partial<Record<ScalarType, readonly [number, number]>> = {
  int32: [-2147483648, 2147483647], sint32: [-2147483648, 2147483647], sfixed32: [-2147483648, 2147483647],
  uint32: [0, 4294967295], fixed32: [0, 4294967295],
  int64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER], sint64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  sfixed64: [-Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER],
  uint64: [0, Number.MAX_SAFE_INTEGER], fixed64: [0, Number.MAX_SAFE_INTEGER],
};

export interface RandomOptions {
  readonly negativeZero: boolean;
  /** Nesting depth at which message, map and repeated-message fields stop being generated. */
  readonly maxDepth: number;
}

/**
 * A random object in the canonical form parseTextFormat returns for `type`: implicit-presence
 * fields only when non-default, at most one member per oneof, non-empty lists and maps.
 */
export function randomMessage(type: protobuf.Type, random: () => number, options: RandomOptions, depth = 0): Record<string, unknown> {
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)] as T;
  const result: Record<string, unknown> = {};
  const oneofs = new Set<string>();

  const scalar = (kind: ValueKind): unknown => {
    switch (kind.kind) {
      case 'message': return randomMessage(kind.messageType, random, options, depth + 1);
      case 'enum': return pick(Object.keys(kind.enumType.values));
      case 'scalar': {
        const limits = INT_LIMITS[kind.scalar];
        if (limits !== undefined) {
          const [min, max] = limits;
          return pick([0, min, max, 1, Math.floor(min + random() * (max - min))]) + 0;
        }
        switch (kind.scalar) {
          case 'bool': return random() < 0.5;
          case 'string': return pick(STRINGS);
          case 'bytes': return Buffer.from(Array.from({ length: Math.floor(random() * 6) }, () => Math.floor(random() * 256)));
          default: {
            const value = pick(FLOATS);
            if (kind.scalar === 'float' && Number.isFinite(value) && Math.abs(value) > 3.4e38) return 3.4e38;
            return options.negativeZero || !Object.is(value, -0) ? value : 0;
          }
        }
      }
    }
  };
  const mapKey = (field: FieldSchema): string => {
    const keyType = field.mapKey ?? 'string';
    if (keyType === 'string') return pick(STRINGS);
    if (keyType === 'bool') return pick(['true', 'false']);
    return String(scalar({ kind: 'scalar', scalar: keyType }));
  };

  for (const field of messageSchema(type).fields) {
    const nested = field.value.kind === 'message' || field.label === 'map';
    if (random() < 0.4 || (nested && depth >= options.maxDepth)) continue;
    if (field.oneof !== undefined) {
      if (oneofs.has(field.oneof)) continue;
      oneofs.add(field.oneof);
    }
    const count = 1 + Math.floor(random() * 3);
    if (field.label === 'repeated') {
      result[field.name] = Array.from({ length: count }, () => scalar(field.value));
    } else if (field.label === 'map') {
      const map: Record<string, unknown> = {};
      for (let i = 0; i < count; i += 1) map[mapKey(field)] = scalar(field.value);
      result[field.name] = map;
    } else {
      const value = scalar(field.value);
      const isDefault = field.value.kind !== 'message' &&
        (Object.is(value, 0) || value === '' || value === false || (Buffer.isBuffer(value) && value.length === 0) ||
          (field.value.kind === 'enum' && field.value.enumType.values[value as string] === 0));
      if (field.hasPresence || !isDefault) result[field.name] = value;
    }
  }
  return result;
}
