/** IEEE 754 half precision (FP16) and bfloat16 (BF16) <-> JS numbers, little-endian 2-byte elements. */

const scratch = new DataView(new ArrayBuffer(4));

export function fp16ToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * fraction * 2 ** -24;
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * (1 + fraction / 1024) * 2 ** (exponent - 15);
}

/** Rounds to nearest even, overflowing to infinity, as numpy's float16 conversion does. */
export function numberToFp16(value: number): number {
  if (Number.isNaN(value)) return 0x7e00;
  const sign = value < 0 || Object.is(value, -0) ? 0x8000 : 0;
  const magnitude = Math.abs(value);
  if (magnitude >= 65520) return sign | 0x7c00;
  if (magnitude < 2 ** -14) return sign | roundHalfEven(magnitude / 2 ** -24);
  const exponent = Math.floor(Math.log2(magnitude));
  let fraction = roundHalfEven((magnitude / 2 ** exponent - 1) * 1024);
  let biased = exponent + 15;
  if (fraction === 1024) { fraction = 0; biased += 1; }
  return biased >= 0x1f ? sign | 0x7c00 : sign | (biased << 10) | fraction;
}

export function bf16ToNumber(bits: number): number {
  scratch.setUint32(0, bits << 16);
  return scratch.getFloat32(0);
}

/** Rounds float32 to bfloat16, nearest even. */
export function numberToBf16(value: number): number {
  scratch.setFloat32(0, value);
  const bits = scratch.getUint32(0);
  if (Number.isNaN(value)) return 0x7fc0;
  return ((bits + 0x7fff + ((bits >> 16) & 1)) >>> 16) & 0xffff;
}

function roundHalfEven(x: number): number {
  const floor = Math.floor(x);
  const diff = x - floor;
  if (diff > 0.5) return floor + 1;
  if (diff < 0.5) return floor;
  return floor % 2 === 0 ? floor : floor + 1;
}
