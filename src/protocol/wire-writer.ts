/** Minimal protobuf wire-format writing for the proxy: encodes small fields to append to a message. */

function varint(value: bigint): number[] {
  const bytes: number[] = [];
  let rest = BigInt.asUintN(64, value);
  while (rest >= 0x80n) {
    bytes.push(Number(rest & 0x7fn) | 0x80);
    rest >>= 7n;
  }
  bytes.push(Number(rest));
  return bytes;
}

function lengthDelimited(field: number, payload: readonly number[]): number[] {
  return [...varint(BigInt((field << 3) | 2)), ...varint(BigInt(payload.length)), ...payload];
}

/**
 * One entry of ModelInferRequest.parameters (field 4, map<string, InferParameter>) with a
 * uint64_param value (InferParameter field 5), e.g. priority. Appended after a message's
 * other fields, it is a valid map entry, and a later entry for the same key wins, so an
 * appended value overrides one the client sent.
 */
export function encodeUint64Parameter(key: string, value: number): Buffer {
  const parameter = [...varint(BigInt((5 << 3) | 0)), ...varint(BigInt(value))];
  const entry = [...lengthDelimited(1, [...Buffer.from(key, 'utf8')]), ...lengthDelimited(2, parameter)];
  return Buffer.from(lengthDelimited(4, entry));
}
