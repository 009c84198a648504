/**
 * BYTES tensors on Triton's wire: each element is a 4-byte little-endian length
 * followed by that many bytes, elements concatenated in row-major order.
 */

export function serializeBytesElements(elements: readonly Uint8Array[]): Buffer {
  let total = 0;
  for (const element of elements) total += 4 + element.byteLength;
  const out = Buffer.allocUnsafe(total);
  let offset = 0;
  for (const element of elements) {
    out.writeUInt32LE(element.byteLength, offset);
    out.set(element, offset + 4);
    offset += 4 + element.byteLength;
  }
  return out;
}

/**
 * Splits a serialized BYTES buffer into its elements (views, not copies).
 * Returns null when the buffer is not exactly a sequence of length-prefixed elements.
 */
export function deserializeBytesElements(buffer: Buffer): Buffer[] | null {
  const elements: Buffer[] = [];
  let offset = 0;
  while (offset < buffer.byteLength) {
    if (offset + 4 > buffer.byteLength) return null;
    const length = buffer.readUInt32LE(offset);
    const end = offset + 4 + length;
    if (end > buffer.byteLength) return null;
    elements.push(buffer.subarray(offset + 4, end));
    offset = end;
  }
  return elements;
}

/**
 * Byte offset at which each group of `elementsPerGroup` elements starts, plus the end:
 * used to cut a batched BYTES tensor back into per-request pieces. Returns null when the
 * buffer holds a different number of elements than groups * elementsPerGroup.
 */
export function bytesGroupOffsets(buffer: Buffer, groups: number, elementsPerGroup: number): number[] | null {
  const offsets = [0];
  let offset = 0;
  for (let group = 0; group < groups; group++) {
    for (let element = 0; element < elementsPerGroup; element++) {
      if (offset + 4 > buffer.byteLength) return null;
      offset += 4 + buffer.readUInt32LE(offset);
      if (offset > buffer.byteLength) return null;
    }
    offsets.push(offset);
  }
  return offset === buffer.byteLength ? offsets : null;
}
