/**
 * Minimal protobuf wire-format reading for the proxy's hot path: walk the top-level
 * fields of a message without decoding it. Returns null on malformed input instead of
 * throwing, so a bad message costs nothing but a refusal.
 */

export const WIRE_VARINT = 0;
export const WIRE_FIXED64 = 1;
export const WIRE_LENGTH_DELIMITED = 2;
export const WIRE_FIXED32 = 5;

export interface FieldCursor {
  /** Field number of the current field. */
  field: number;
  wireType: number;
  /** For length-delimited fields: where the payload starts and ends. For varints: the value (up to 2^53). */
  start: number;
  end: number;
  varint: number;
  /** Offset of the next field. */
  next: number;
}

/** Reads a varint at `offset`; returns [value, next offset] or null. Values beyond 2^53 lose precision. */
export function readVarint(buffer: Uint8Array, offset: number, limit: number): [number, number] | null {
  let value = 0;
  let multiplier = 1;
  for (let index = offset; index < limit && index < offset + 10; index++) {
    const byte = buffer[index] as number;
    value += (byte & 0x7f) * multiplier;
    if ((byte & 0x80) === 0) return [value, index + 1];
    multiplier *= 128;
  }
  return null;
}

/** Reads a varint as a signed 64-bit integer (two's complement), exactly. */
export function readVarintBigInt(buffer: Uint8Array, offset: number, limit: number): [bigint, number] | null {
  let value = 0n;
  let shift = 0n;
  for (let index = offset; index < limit && index < offset + 10; index++) {
    const byte = buffer[index] as number;
    value |= BigInt(byte & 0x7f) << shift;
    if ((byte & 0x80) === 0) return [BigInt.asIntN(64, value), index + 1];
    shift += 7n;
  }
  return null;
}

/**
 * Reads the field that starts at `offset` (before `limit`) into `cursor`. Returns false at
 * the end or on malformed input (check `cursor.next === limit` to tell them apart).
 */
export function readField(buffer: Uint8Array, offset: number, limit: number, cursor: FieldCursor): boolean {
  if (offset >= limit) return false;
  const tag = readVarint(buffer, offset, limit);
  if (tag === null) return false;
  const [key, afterTag] = tag;
  cursor.field = Math.floor(key / 8);
  cursor.wireType = key & 7;
  switch (cursor.wireType) {
    case WIRE_VARINT: {
      const value = readVarint(buffer, afterTag, limit);
      if (value === null) return false;
      cursor.varint = value[0];
      cursor.start = afterTag;
      cursor.end = value[1];
      cursor.next = value[1];
      return true;
    }
    case WIRE_LENGTH_DELIMITED: {
      const length = readVarint(buffer, afterTag, limit);
      if (length === null) return false;
      const start = length[1];
      const end = start + length[0];
      if (end > limit) return false;
      cursor.start = start;
      cursor.end = end;
      cursor.next = end;
      return true;
    }
    case WIRE_FIXED64:
      cursor.start = afterTag;
      cursor.end = afterTag + 8;
      cursor.next = cursor.end;
      return cursor.end <= limit;
    case WIRE_FIXED32:
      cursor.start = afterTag;
      cursor.end = afterTag + 4;
      cursor.next = cursor.end;
      return cursor.end <= limit;
    default:
      return false;
  }
}

export function newCursor(): FieldCursor {
  return { field: 0, wireType: 0, start: 0, end: 0, varint: 0, next: 0 };
}
