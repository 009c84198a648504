import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { bytesGroupOffsets, deserializeBytesElements, serializeBytesElements } from '../../src/protocol/bytes-tensor';
import { ALL_DATATYPES, datatypeFromConfigType, datatypeInfo, elementCount } from '../../src/protocol/datatypes';
import { bf16ToNumber, fp16ToNumber, numberToBf16, numberToFp16 } from '../../src/protocol/half-float';
import { nestedShape, tensorFromJson, tensorToJson } from '../../src/protocol/json-tensor';
import { concatBatch, splitBatch } from '../../src/protocol/tensor-batching';
import { rawToTypedContents, typedContentsToRaw } from '../../src/protocol/typed-contents';

describe('tensor codecs', () => {
  it('knows every Triton datatype, its element size and config enum', () => {
    assert.equal(ALL_DATATYPES.length, 14);
    assert.equal(datatypeInfo('FP32')?.byteSize, 4);
    assert.equal(datatypeInfo('BYTES')?.byteSize, 0);
    assert.equal(datatypeFromConfigType('TYPE_STRING')?.datatype, 'BYTES');
    assert.equal(datatypeFromConfigType('TYPE_BF16')?.contentsField, null);
    assert.equal(datatypeInfo('FP8'), undefined);
    assert.equal(elementCount([]), 1);
    assert.equal(elementCount([3, 0, 2]), 0);
  });

  it('serializes BYTES with 4-byte little-endian length prefixes and reads them back', () => {
    const elements = [Buffer.from(''), Buffer.from('héllo'), Buffer.from([0, 255, 10])];
    const raw = serializeBytesElements(elements);
    assert.deepEqual([...raw.subarray(0, 4)], [0, 0, 0, 0]);
    assert.equal(raw.readUInt32LE(4), 6);
    assert.deepEqual(deserializeBytesElements(raw)?.map((b) => b.toString('hex')), elements.map((b) => b.toString('hex')));
    assert.equal(deserializeBytesElements(raw.subarray(0, raw.length - 1)), null, 'a truncated element is invalid');
    assert.equal(deserializeBytesElements(Buffer.from([1, 0])), null, 'a truncated length is invalid');
  });

  it('finds the byte offsets of rows in a batched BYTES tensor', () => {
    const raw = serializeBytesElements(['a', 'bb', 'ccc', 'dddd'].map((s) => Buffer.from(s)));
    assert.deepEqual(bytesGroupOffsets(raw, 2, 2), [0, 11, 26]);
    assert.equal(bytesGroupOffsets(raw, 3, 2), null);
    assert.equal(bytesGroupOffsets(raw, 1, 3), null, 'leftover bytes make it invalid');
  });

  it('converts typed contents to raw little-endian bytes and back, for every typed datatype', () => {
    const cases: [string, Record<string, unknown[]>][] = [
      ['BOOL', { bool_contents: [true, false, true] }],
      ['INT8', { int_contents: [-128, 0, 127] }],
      ['INT16', { int_contents: [-32768, 1, 32767] }],
      ['INT32', { int_contents: [-2147483648, 2, 2147483647] }],
      ['INT64', { int64_contents: ['-9223372036854775808', '3', '9223372036854775807'] }],
      ['UINT8', { uint_contents: [0, 1, 255] }],
      ['UINT16', { uint_contents: [0, 1, 65535] }],
      ['UINT32', { uint_contents: [0, 1, 4294967295] }],
      ['UINT64', { uint64_contents: ['0', '1', '18446744073709551615'] }],
      ['FP32', { fp32_contents: [1.5, -0.25, Infinity] }],
      ['FP64', { fp64_contents: [Math.PI, -1e300, 0] }],
      ['BYTES', { bytes_contents: [Buffer.from('a'), Buffer.from('')] }],
    ];
    for (const [datatype, contents] of cases) {
      const raw = typedContentsToRaw(datatype as never, contents);
      assert.ok(raw !== null, datatype);
      assert.deepEqual(rawToTypedContents(datatype as never, raw), contents, datatype);
    }
    assert.equal(typedContentsToRaw('INT64', { int64_contents: ['-2'] })?.toString('hex'), 'feffffffffffffff');
    assert.equal(typedContentsToRaw('FP16', {}), null);
    assert.throws(() => rawToTypedContents('BF16', Buffer.alloc(2)), /BF16 has no typed contents field/);
  });

  it('converts FP16 and BF16 with round-to-nearest-even', () => {
    assert.equal(numberToFp16(1), 0x3c00);
    assert.equal(numberToFp16(-2), 0xc000);
    assert.equal(numberToFp16(65504), 0x7bff);
    assert.equal(numberToFp16(70000), 0x7c00);
    assert.equal(numberToFp16(2 ** -24), 0x0001);
    assert.equal(fp16ToNumber(0x3555), 0.333251953125);
    assert.ok(Number.isNaN(fp16ToNumber(numberToFp16(NaN))));
    for (const value of [0.1, 1 / 3, 1234.5, -0.0001]) {
      assert.ok(Math.abs(fp16ToNumber(numberToFp16(value)) - value) <= Math.abs(value) * 2 ** -11, `fp16 ${value}`);
      assert.ok(Math.abs(bf16ToNumber(numberToBf16(value)) - value) <= Math.abs(value) * 2 ** -8, `bf16 ${value}`);
    }
    assert.equal(numberToBf16(1), 0x3f80);
  });

  it('stacks tensors along the batch dimension and cuts them back without copying', () => {
    const part = (rows: number, start: number) => ({ name: 'x', datatype: 'INT32' as const, shape: [rows, 2], data: Buffer.from(new Int32Array(Array.from({ length: rows * 2 }, (_, i) => start + i)).buffer) });
    const batch = concatBatch([part(1, 0), part(2, 10), part(3, 100)]);
    assert.deepEqual(batch.shape, [6, 2]);
    const pieces = splitBatch(batch, [1, 2, 3]);
    assert.deepEqual(pieces.map((p) => p.shape), [[1, 2], [2, 2], [3, 2]]);
    assert.deepEqual([...new Int32Array(pieces[1]!.data.buffer, pieces[1]!.data.byteOffset, 4)], [10, 11, 12, 13]);
    assert.equal(pieces[2]!.data.buffer, batch.data.buffer, 'pieces are views of the batch');
    assert.throws(() => splitBatch(batch, [1, 1]), /batch dimension 6, expected 2/);
  });

  it('cuts a batched BYTES tensor by element boundaries', () => {
    const data = serializeBytesElements(['a', 'bb', 'ccc', 'dddd', 'e', 'f'].map((s) => Buffer.from(s)));
    const pieces = splitBatch({ name: 'o', datatype: 'BYTES', shape: [3, 2], data }, [2, 1]);
    assert.deepEqual(deserializeBytesElements(pieces[0]!.data)?.map(String), ['a', 'bb', 'ccc', 'dddd']);
    assert.deepEqual(deserializeBytesElements(pieces[1]!.data)?.map(String), ['e', 'f']);
  });

  it('reads JSON tensors (nested arrays) and writes them back', () => {
    assert.deepEqual(nestedShape([[1, 2, 3], [4, 5, 6]]), [2, 3]);
    assert.deepEqual(nestedShape(7), []);
    assert.throws(() => nestedShape([[1, 2], [3]]), /ragged: data\[1\] has shape \[1\], data\[0\] has \[2\]/);
    const tensor = tensorFromJson('x', 'INT64', [2, 2], [[1, -2], ['9007199254740993', 4]]);
    assert.deepEqual(tensorToJson(tensor), [[1, -2], ['9007199254740993', 4]]);
    const half = tensorFromJson('h', 'FP16', [2], [0.5, -3]);
    assert.deepEqual(tensorToJson(half), [0.5, -3]);
    const text = tensorFromJson('s', 'BYTES', [1, 2], [['héllo', '']]);
    assert.deepEqual(tensorToJson(text), [['héllo', '']]);
    assert.throws(() => tensorFromJson('x', 'FP32', [3], [1, 2]), /has 2 values but shape \[3\] needs 3/);
    assert.throws(() => tensorFromJson('x', 'FP32', [1], ['a']), /value #0 is "a", expected a number/);
  });
});
