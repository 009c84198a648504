import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { TriageError } from '../../src/errors/triage-error';
import { batchTensors } from '../../src/jobs/execution/batch-tensors';
import { prepareRow, type PreparedInput, type PreparedRow } from '../../src/jobs/execution/prepared-row';
import { readStoredRows } from '../../src/jobs/execution/read-stored-rows';
import type { JobRow } from '../../src/jobs/job-record';
import { isPackedChunk, packChunk, packRow, PACKED_CHUNK_MAGIC, storedRowIds, unpackChunk, type RowTensor } from '../../src/jobs/packed-rows';
import type { Datatype } from '../../src/protocol/datatypes';
import { tensorFromJson, type JsonTensorValue } from '../../src/protocol/json-tensor';
import { legacyJsonlChunk, packedRow } from '../support/job-builder';

const tensor = (name: string, datatype: Datatype, shape: number[], data: JsonTensorValue[]): RowTensor => ({ name, datatype, shape, raw: tensorFromJson(name, datatype, shape, data).data });

/** A row of every kind of input the packed form must carry, given out of name order. */
function mixedRow(seed: number): JobRow {
  return {
    custom_id: `mixed-${seed}`,
    inputs: {
      text: { datatype: 'BYTES', shape: [2], data: [`héllo ${seed}`, ''] },
      features: { datatype: 'FP32', shape: [2, 2], data: [[1.5 + seed, -2], [3.25, 1e-7]] },
      big: { datatype: 'INT64', shape: [2], data: ['9007199254740993', -seed] },
      flags: { datatype: 'BOOL', shape: [3], data: [true, false, seed % 2 === 0] },
      half: { datatype: 'FP16', shape: [2], data: [0.5, -seed] },
      small: { datatype: 'UINT8', shape: [], data: [seed % 256] },
    },
  };
}

/** The error a call throws; fails when it does not throw. */
function thrown(call: () => unknown): Error {
  try {
    call();
  } catch (error) {
    return error as Error;
  }
  assert.fail('expected a throw');
}

function assertCorrupt(chunk: Buffer, row: number, pattern?: RegExp): void {
  const error = thrown(() => unpackChunk(chunk));
  assert.ok(error instanceof TriageError, String(error));
  assert.equal(error.code, 'INTERNAL');
  assert.match(error.message, new RegExp(`^a stored chunk is corrupt at row ${row}: `));
  if (pattern !== undefined) assert.match(error.message, pattern);
}

describe('jobs: packed rows (the stored chunk format, unit)', () => {
  it('round-trips FP32, INT64, BOOL, BYTES, FP16 and UINT8 inputs, several per row, sorted by name, with unicode custom_ids', () => {
    const ids = ['élève 42 ✓', '患者-0001', '🧪 sample'];
    const inputs = (seed: number): RowTensor[] => [
      tensor('text', 'BYTES', [2], [`héllo ${seed}`, '']),
      tensor('features', 'FP32', [2, 2], [1.5 + seed, -2, 3.25, 1e-7]),
      tensor('big', 'INT64', [2], ['9007199254740993', -seed]),
      tensor('flags', 'BOOL', [3], [true, false, seed % 2 === 0]),
      tensor('half', 'FP16', [2], [0.5, -seed]),
      tensor('small', 'UINT8', [], [seed]),
    ];
    const chunk = packChunk(ids.map((id, seed) => packRow(id, inputs(seed))));
    assert.ok(isPackedChunk(chunk));
    assert.deepEqual(chunk.subarray(0, 4), Buffer.from('TRJ1'));
    const rows = unpackChunk(chunk);
    assert.deepEqual(rows.map((row) => row.customId), ids);
    rows.forEach((row, seed) => {
      const expected = [...inputs(seed)].sort((a, b) => (a.name < b.name ? -1 : 1));
      assert.deepEqual(row.inputs.map((input) => input.name), ['big', 'features', 'flags', 'half', 'small', 'text']);
      row.inputs.forEach((input, index) => {
        const want = expected[index] as RowTensor;
        assert.deepEqual([input.datatype, input.shape, input.count, input.data], [want.datatype, want.shape, want.shape.reduce((a, b) => a * b, 1), null], input.name);
        assert.deepEqual(input.raw, want.raw, `${input.name} of row ${seed}`);
        assert.equal(input.raw?.buffer, chunk.buffer, 'raw is a view of the chunk, not a copy');
      });
    });
    assert.equal(rows[0]?.inputs[1]?.raw?.readFloatLE(4), -2);
    assert.equal(rows[2]?.inputs[0]?.raw?.readBigInt64LE(0), 9007199254740993n);
    // Rows of equal inputs share their shapes (decoded once per chunk position).
    assert.equal(rows[1]?.inputs[1]?.shape, rows[2]?.inputs[1]?.shape);
    assert.deepEqual(unpackChunk(packChunk([])), []);
  });

  it('refuses to pack what does not fit its length field', () => {
    const input = tensor('x', 'FP32', [1], [1]);
    assert.throws(() => packRow('x'.repeat(65_536), [input]), RangeError);
    assert.ok(packRow('x'.repeat(65_535), [input]).length > 65_535);
    assert.throws(() => packRow('id', [{ ...input, name: 'n'.repeat(65_536) }]), RangeError);
    assert.throws(() => packRow('id', Array.from({ length: 256 }, (_, index) => ({ ...input, name: `i${index}` }))), RangeError);
    assert.throws(() => packRow('id', [{ ...input, datatype: 'FP33' as Datatype }]), RangeError);
  });

  it('a truncated chunk throws INTERNAL naming the row it ends in, never a value', () => {
    const rows = [0, 1, 2].map((seed) => packedRow(mixedRow(seed)));
    const chunk = packChunk(rows);
    const boundaries = new Set<number>();
    let end = PACKED_CHUNK_MAGIC.length;
    for (const row of rows) boundaries.add(end += row.length);
    let rowOfCut = 0;
    let rowEnd = PACKED_CHUNK_MAGIC.length + (rows[0] as Buffer).length;
    for (let cut = PACKED_CHUNK_MAGIC.length + 1; cut < chunk.length; cut++) {
      if (boundaries.has(cut)) {
        // A cut between rows leaves a well-formed chunk of fewer rows.
        assert.equal(unpackChunk(chunk.subarray(0, cut)).length, rowOfCut + 1);
        rowOfCut += 1;
        rowEnd += (rows[rowOfCut] as Buffer).length;
        continue;
      }
      assert.ok(cut < rowEnd);
      assertCorrupt(chunk.subarray(0, cut), rowOfCut, /truncated/);
      const message = thrown(() => unpackChunk(chunk.subarray(0, cut))).message;
      for (const value of ['mixed-', 'héllo', '9007199254740993']) assert.ok(!message.includes(value), message);
    }
    const notPacked = thrown(() => unpackChunk(Buffer.from('{"custom_id":"a"}\n')));
    assert.ok(notPacked instanceof TriageError && notPacked.code === 'INTERNAL');
  });

  it('an unknown datatype, a data length its shape does not need, a broken BYTES element or inputs out of order are corruption', () => {
    const good = packedRow(mixedRow(0));
    const patched = (row: Buffer, from: string, to: string): Buffer => {
      const copy = Buffer.from(row);
      const at = copy.indexOf(from, 0, 'latin1');
      assert.ok(at >= 0);
      copy.write(to, at, 'latin1');
      return copy;
    };
    assertCorrupt(packChunk([good, patched(good, 'FP32', 'FP33')]), 1, /input #1 has an unknown datatype$/);
    // FP32 [3] needs 12 bytes.
    const short = packRow('short', [{ name: 'x', datatype: 'FP32', shape: [3], raw: Buffer.alloc(8) }]);
    assertCorrupt(packChunk([good, good, short]), 2, /input #0 holds 8 bytes of FP32, its shape needs 12$/);
    // BYTES [2]: one element whose length runs past the data, then one element too few.
    const bytes = (raw: Buffer): Buffer => packRow('b', [{ name: 'text', datatype: 'BYTES', shape: [2], raw }]);
    const element = (text: string): Buffer => Buffer.concat([Buffer.from([text.length, 0, 0, 0]), Buffer.from(text)]);
    assert.equal(unpackChunk(packChunk([bytes(Buffer.concat([element('ab'), element('')]))])).length, 1);
    assertCorrupt(packChunk([bytes(Buffer.concat([element('ab'), Buffer.from([9, 0, 0, 0, 1])]))]), 0, /past the end/);
    assertCorrupt(packChunk([bytes(element('ab'))]), 0, /fewer elements/);
    assertCorrupt(packChunk([bytes(Buffer.concat([element('ab'), element('c'), element('d')]))]), 0, /more bytes/);
    // Inputs are stored sorted by name (big < features): renaming the first breaks the order.
    assertCorrupt(packChunk([patched(good, 'big', 'zig')]), 0, /input #1 is out of name order/);
  });

  it('storedRowIds reads the custom_ids of packed and of legacy JSONL chunks', () => {
    const rows = [mixedRow(1), mixedRow(2), { custom_id: 'élève ✓', inputs: { x: { datatype: 'INT32', shape: [1], data: [1] } } }];
    assert.deepEqual(storedRowIds(packChunk(rows.map(packedRow))), ['mixed-1', 'mixed-2', 'élève ✓']);
    assert.deepEqual(storedRowIds(legacyJsonlChunk(rows)), ['mixed-1', 'mixed-2', 'élève ✓']);
    assert.equal(isPackedChunk(legacyJsonlChunk(rows)), false);
  });

  it('readStoredRows reads both formats to the same rows; a legacy row that does not fit is refused alone', () => {
    const rows = [mixedRow(3), mixedRow(4)];
    const packed = readStoredRows(packChunk(rows.map(packedRow)));
    const legacyRows: JobRow[] = [...rows, { custom_id: 'bad', inputs: { x: { datatype: 'NOPE', shape: [1], data: [1] } } }];
    const legacy = readStoredRows(legacyJsonlChunk(legacyRows));
    assert.deepEqual(packed.refused, []);
    assert.deepEqual(legacy.refused.map(({ customId, error }) => [customId, (error as Error).constructor]), [['bad', RangeError]]);
    assert.deepEqual(batchTensors(packed.rows, true).tensors, batchTensors(legacy.rows, true).tensors);
    const empty = readStoredRows(packChunk([packRow('none', [])]));
    assert.deepEqual(empty.rows, []);
    assert.deepEqual(empty.refused.map(({ customId }) => customId), ['none']);
  });

  it('batchTensors of packed rows equals batchTensors of the same rows in JSON form, for every datatype', () => {
    const rows = [0, 1, 2, 3, 4].map(mixedRow);
    rows.push({ ...(rows[0] as JobRow), custom_id: 'copy-of-0' });
    const fromPacked = batchTensors(unpackChunk(packChunk(rows.map(packedRow))), true);
    const fromJson = batchTensors(rows.map(prepareRow), true);
    assert.equal(fromPacked.refused.length, 0);
    assert.deepEqual(fromPacked.rows.map((row) => row.customId), fromJson.rows.map((row) => row.customId));
    assert.equal(fromPacked.tensors.length, 6);
    assert.deepEqual(fromPacked.tensors, fromJson.tensors);
    assert.deepEqual(fromPacked.tensors.find((t) => t.name === 'features')?.shape, [6, 2, 2]);
    // Numeric datatypes other than those of mixedRow, including a row alone (a model that does not batch).
    for (const [datatype, data] of [['FP64', [0.1, -3]], ['INT8', [-128, 127]], ['INT16', [-300, 7]], ['INT32', [-70000, 5]], ['UINT16', [65535, 0]], ['UINT32', [4294967295, 1]]] as const) {
      const typed: JobRow[] = [0, 1].map((seed) => ({ custom_id: `${datatype}-${seed}`, inputs: { v: { datatype, shape: [2], data: [...data] } } }));
      assert.deepEqual(batchTensors(unpackChunk(packChunk(typed.map(packedRow))), true).tensors, batchTensors(typed.map(prepareRow), true).tensors, datatype);
      assert.deepEqual(batchTensors(unpackChunk(packChunk(typed.slice(0, 1).map(packedRow))), false).tensors, batchTensors(typed.slice(0, 1).map(prepareRow), false).tensors, datatype);
    }
  });

  it('batchTensors refuses a packed row whose raw bytes do not fill its slot, naming the input; the next row takes the slot', () => {
    const [good, other] = unpackChunk(packChunk([0, 1].map((seed) => packRow(`r${seed}`, [tensor('x', 'FP32', [2], [seed, seed + 0.5])])))) as PreparedRow[];
    const input = (good as PreparedRow).inputs[0] as PreparedInput;
    const wrong: PreparedRow = { customId: 'wrong', inputs: [{ ...input, raw: Buffer.alloc(4) }] };
    const batch = batchTensors([wrong, other as PreparedRow, good as PreparedRow], true);
    assert.deepEqual(batch.rows.map((row) => row.customId), ['r1', 'r0']);
    assert.equal(batch.refused.length, 1);
    const error = batch.refused[0]?.error;
    assert.ok(error instanceof RangeError);
    assert.match(error.message, /^input 'x' holds 4 bytes of FP32, its shape needs 8$/);
    assert.deepEqual([...new Float32Array(new Uint8Array(batch.tensors[0]?.data ?? Buffer.alloc(0)).buffer)], [1, 1.5, 0, 0.5]);
  });
});
