import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { batchTensors } from '../../src/jobs/execution/batch-tensors';
import { fastRowsToJsonText } from '../../src/jobs/execution/fast-json-tensor';
import { planBatches } from '../../src/jobs/execution/plan-batches';
import { prepareRow, sameInputs } from '../../src/jobs/execution/prepared-row';
import type { JobRow } from '../../src/jobs/job-record';
import type { Datatype } from '../../src/protocol/datatypes';
import { tensorFromJson, tensorToJson, type JsonTensorValue } from '../../src/protocol/json-tensor';
import { splitBatch } from '../../src/protocol/tensor-batching';

const row = (id: string, inputs: Record<string, { datatype: string; shape: number[]; data: unknown }>): JobRow => ({ custom_id: id, inputs });

describe('batch job execution: row tensors (unit)', () => {
  it('stacks rows into one tensor per input, byte for byte as tensorFromJson writes each row, leaving out rows whose values do not fit', () => {
    const rows = [
      row('a', { X: { datatype: 'FP32', shape: [2, 2], data: [[1.5, -2], [3.25, 1e-7]] }, N: { datatype: 'INT64', shape: [1], data: [9007199254740993n.toString()] } }),
      row('strings', { X: { datatype: 'FP32', shape: [2, 2], data: [1, 2, 3, 4] }, N: { datatype: 'INT64', shape: [1], data: [-5] } }),
      row('bad', { X: { datatype: 'FP32', shape: [2, 2], data: [1, 2, 'x', 4] }, N: { datatype: 'INT64', shape: [1], data: [1] } }),
      row('short', { X: { datatype: 'FP32', shape: [2, 2], data: [1, 2, 3] }, N: { datatype: 'INT64', shape: [1], data: [1] } }),
      row('last', { X: { datatype: 'FP32', shape: [2, 2], data: [5, 6, 7, 8] }, N: { datatype: 'INT64', shape: [1], data: [7] } }),
    ].map(prepareRow);
    const batch = batchTensors(rows, true);
    assert.deepEqual(batch.rows.map((prepared) => prepared.customId), ['a', 'strings', 'last']);
    assert.deepEqual(batch.refused.map(({ row: refused }) => refused.customId), ['bad', 'short']);
    assert.ok(batch.refused.every(({ error }) => error instanceof TypeError || error instanceof RangeError));
    const [n, x] = batch.tensors;
    assert.deepEqual(x?.shape, [3, 2, 2]);
    const expectedX = Buffer.concat([[[1.5, -2], [3.25, 1e-7]], [1, 2, 3, 4], [5, 6, 7, 8]].map((data) => tensorFromJson('X', 'FP32', [2, 2], data).data));
    assert.deepEqual(x?.data, expectedX);
    assert.deepEqual(n?.shape, [3, 1]);
    assert.deepEqual(n?.data, Buffer.concat(['9007199254740993', -5, 7].map((value) => tensorFromJson('N', 'INT64', [1], [value]).data)));
  });

  it('numbers given as decimal strings take the slow path and land in their slot', () => {
    const rows = [
      row('s', { I: { datatype: 'INT32', shape: [2], data: ['12', '-3'] } }),
      row('n', { I: { datatype: 'INT32', shape: [2], data: [4, 5] } }),
    ].map(prepareRow);
    const batch = batchTensors(rows, true);
    assert.equal(batch.refused.length, 0);
    assert.deepEqual([...new Int32Array(new Uint8Array(batch.tensors[0]?.data ?? Buffer.alloc(0)).buffer)], [12, -3, 4, 5]);
  });

  it('batches consecutive rows of equal inputs, up to max_batch_size, one row per call when the model does not batch', () => {
    const a = (id: string) => prepareRow(row(id, { X: { datatype: 'FP32', shape: [3], data: [1, 2, 3] } }));
    const b = (id: string) => prepareRow(row(id, { X: { datatype: 'FP32', shape: [2], data: [1, 2] } }));
    const ids = (batches: { customId: string }[][]) => batches.map((batch) => batch.map((prepared) => prepared.customId).join(''));
    assert.deepEqual(ids(planBatches([a('1'), a('2'), a('3'), b('4'), a('5')], 2, sameInputs)), ['12', '3', '4', '5']);
    assert.deepEqual(ids(planBatches([a('1'), a('2')], 0, sameInputs)), ['1', '2']);
  });

  it('cuts numeric outputs per row as the same JSON as tensorToJson, and leaves other types and non-finite values to it', () => {
    const values = [0.1, -2.5, 1e-30, 3, 4, 5, -0, 7.75, 8, 9, 10, 11];
    for (const datatype of ['FP32', 'FP64', 'INT32', 'UINT8'] as Datatype[]) {
      const data = datatype === 'UINT8' ? values.map((value) => Math.abs(Math.round(value))) : datatype === 'INT32' ? values.map(Math.round) : values;
      const tensor = tensorFromJson('Y', datatype, [2, 2, 3], data);
      const expected = splitBatch(tensor, [1, 1]).map((piece) => JSON.stringify((tensorToJson(piece) as JsonTensorValue[])[0]));
      assert.deepEqual(fastRowsToJsonText(tensor, 2), expected, datatype);
    }
    assert.equal(fastRowsToJsonText(tensorFromJson('Y', 'INT64', [2, 1], [1, 2]), 2), null);
    const nan = { ...tensorFromJson('Y', 'FP32', [2, 1], [1, 2]) };
    nan.data.writeFloatLE(Number.NaN, 4);
    assert.equal(fastRowsToJsonText(nan, 2), null, 'JSON has no NaN: the caller falls back to tensorToJson');
  });
});
