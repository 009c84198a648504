import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import { CustomIdSet } from '../../src/jobs/custom-id-set';
import { modelSignatureFromConfig, type ModelSignature } from '../../src/jobs/model-signature';
import { RowProblems } from '../../src/jobs/row-problem';
import { RowValidator } from '../../src/jobs/row-validator';
import type { Datatype } from '../../src/protocol/datatypes';
import { tensorFromJson, type JsonTensorValue } from '../../src/protocol/json-tensor';

/** Signatures from ModelConfig as the proto loader decodes it (int64 dims as strings), like the sample models'. */
const SIMPLE = modelSignatureFromConfig('simple', '', {
  max_batch_size: 8,
  input: [{ name: 'INPUT0', data_type: 'TYPE_INT32', dims: ['16'] }, { name: 'INPUT1', data_type: 'TYPE_INT32', dims: ['16'] }],
});
const BREAST = modelSignatureFromConfig('breast_cancer_mlp', '', {
  max_batch_size: 256, input: [{ name: 'features', data_type: 'TYPE_FP32', dims: ['30'] }], dynamic_batching: { priority_levels: '3' },
});
/** No batching, a variable dimension, an optional BYTES input, an INT64 input. */
const IMAGES = modelSignatureFromConfig('images', '2', {
  max_batch_size: 0,
  input: [
    { name: 'pixels', data_type: 'TYPE_UINT8', dims: ['-1', '3'] },
    { name: 'label', data_type: 'TYPE_STRING', dims: ['1'], optional: true },
    { name: 'big', data_type: 'TYPE_INT64', dims: ['2'] },
  ],
});

const range = (count: number, from = 0): number[] => Array.from({ length: count }, (_, index) => from + index);
const simpleRow = (id: string): Record<string, unknown> => ({ custom_id: id, inputs: { INPUT0: range(16), INPUT1: range(16, 100) } });

/** The problems of one row as "field: rule" texts (empty: the row is good). */
function problemsOf(signature: ModelSignature, row: unknown, validator = new RowValidator(signature)): string[] {
  const check = validator.check(row, 7);
  return 'problems' in check ? check.problems.map((problem) => `${problem.field}: ${problem.rule}`) : [];
}

/** An input as a good row carries it to packRow: Triton's raw bytes of these values. */
const tensor = (name: string, datatype: Datatype, shape: number[], data: JsonTensorValue[]) => ({ name, datatype, shape, raw: tensorFromJson(name, datatype, shape, data).data });

function stored(signature: ModelSignature, row: unknown): unknown {
  const check = new RowValidator(signature).check(row, 1);
  assert.ok('row' in check, JSON.stringify(check));
  return check.row;
}

describe('jobs: checking rows against the model', () => {
  it('reads signatures from ModelConfig: datatypes, dims, optional inputs, max_batch_size and priority levels', () => {
    assert.deepEqual(BREAST, { model: 'breast_cancer_mlp', version: '', maxBatchSize: 256, inputs: [{ name: 'features', datatype: 'FP32', dims: [30], optional: false }], priorityLevels: 3 });
    assert.deepEqual(IMAGES.inputs.map((input) => [input.datatype, input.dims, input.optional]), [['UINT8', [-1, 3], false], ['BYTES', [1], true], ['INT64', [2], false]]);
  });

  it('stores a good row as raw tensors without the batch dimension, from nested arrays or tensor objects', () => {
    assert.deepEqual(stored(SIMPLE, simpleRow('r1')), {
      customId: 'r1', inputs: [tensor('INPUT0', 'INT32', [16], range(16)), tensor('INPUT1', 'INT32', [16], range(16, 100))],
    });
    // A leading batch dimension of 1 is accepted and dropped; a tensor object may give nested data and its datatype.
    assert.deepEqual(stored(SIMPLE, { custom_id: 'r2', inputs: { INPUT0: [range(16)], INPUT1: { datatype: 'INT32', shape: [1, 16], data: [range(16)] } } }), {
      customId: 'r2', inputs: [tensor('INPUT0', 'INT32', [16], range(16)), tensor('INPUT1', 'INT32', [16], range(16))],
    });
    // Without batching the shape is kept as given; -1 takes any size; an optional input may be absent; INT64 beyond 2^53 as a string.
    const images = stored(IMAGES, { custom_id: 'i', inputs: { pixels: [[1, 2, 3], [4, 5, 6]], big: ['9007199254740993', -1] } });
    assert.deepEqual(images, { customId: 'i', inputs: [tensor('pixels', 'UINT8', [2, 3], [1, 2, 3, 4, 5, 6]), tensor('big', 'INT64', [2], ['9007199254740993', -1])] });
    const big = (images as { inputs: { raw: Buffer }[] }).inputs[1]?.raw;
    assert.deepEqual([big?.readBigInt64LE(0), big?.readBigInt64LE(8)], [9007199254740993n, -1n], 'INT64 beyond 2^53 is exact');
  });

  it('refuses inputs the model lacks and requires every input that is not optional', () => {
    assert.deepEqual(problemsOf(SIMPLE, { custom_id: 'x', inputs: { INPUT0: range(16), INPUT2: range(16) } }), [
      'inputs.INPUT2: is not an input of model \'simple\' (inputs: INPUT0, INPUT1)',
      'inputs.INPUT1: is missing: model \'simple\' needs it',
    ]);
    assert.deepEqual(problemsOf(IMAGES, { custom_id: 'x', inputs: { pixels: [[1, 2, 3]] } }), ['inputs.big: is missing: model \'images\' needs it']);
    assert.deepEqual(problemsOf(SIMPLE, { custom_id: 'x', inputs: [] }), ['inputs: must be an object of the model\'s inputs by name']);
    assert.deepEqual(problemsOf(SIMPLE, { custom_id: 'x', inputs: { INPUT0: range(16), INPUT1: range(16) }, extra: 1 }), ['extra: is not a member of a row (known: custom_id, inputs)']);
  });

  it('checks shapes: rank, fixed dims, -1 dims, and the batch dimension rules', () => {
    const with0 = (value: unknown): string[] => problemsOf(SIMPLE, { custom_id: 'x', inputs: { INPUT0: value, INPUT1: range(16) } });
    assert.deepEqual(with0(range(15)), ['inputs.INPUT0.shape: is [15], but the model expects [16] (one inference, without the batch dimension)']);
    assert.deepEqual(with0([range(16), range(16)]), ['inputs.INPUT0.shape: has a batch dimension of 2: a row is one inference, so its batch dimension must be 1 or left out']);
    assert.deepEqual(with0([[range(16)]]), ['inputs.INPUT0.shape: is [1,1,16], but the model expects [16] (one inference, without the batch dimension)']);
    assert.deepEqual(with0({ shape: [16], data: range(17) }), ['inputs.INPUT0: has 17 values in \'data\' but its shape [16] needs 16']);
    assert.deepEqual(with0([[1, 2], [3]]), ['inputs.INPUT0: is ragged: INPUT0[1] has shape [1], INPUT0[0] has [2]']);
    // Without batching there is no batch dimension to drop: the rank must be the config's.
    assert.deepEqual(problemsOf(IMAGES, { custom_id: 'x', inputs: { pixels: [[[1, 2, 3]]], big: [1, 2] } }), ['inputs.pixels.shape: is [1,1,3], but the model expects [-1,3]']);
    assert.deepEqual(problemsOf(IMAGES, { custom_id: 'x', inputs: { pixels: [[1, 2]], big: [1, 2] } }), ['inputs.pixels.shape: is [1,2], but the model expects [-1,3]']);
    assert.deepEqual(problemsOf(IMAGES, { custom_id: 'x', inputs: { pixels: { shape: [-1, 3], data: [] }, big: [1, 2] } }), ['inputs.pixels.shape: must be a list of non-negative integers']);
  });

  it('checks datatypes and values: the declared datatype, each value\'s type and range', () => {
    const with0 = (value: unknown): string[] => problemsOf(SIMPLE, { custom_id: 'x', inputs: { INPUT0: value, INPUT1: range(16) } });
    assert.deepEqual(with0({ datatype: 'FP32', shape: [16], data: range(16) }), ['inputs.INPUT0.datatype: is "FP32", but the model\'s input is INT32']);
    assert.match(with0([...range(15), 'seven']).join(), /^inputs\.INPUT0: \(INT32\) value #15 is the string "seven": expected an integer$/);
    assert.match(with0([...range(15), 2 ** 31]).join(), /^inputs\.INPUT0: \(INT32\) value #15 is number 2147483648: out of range \[-2147483648, 2147483647\]$/);
    assert.match(with0([...range(15), 1.5]).join(), /value #15 .*expected an integer/);
    assert.match(problemsOf(BREAST, { custom_id: 'x', inputs: { features: [...range(29), null] } }).join(), /^inputs\.features: \(FP32\) value #29 is null: expected a number$/);
    assert.match(problemsOf(IMAGES, { custom_id: 'x', inputs: { pixels: [[1, 2, 300]], big: [1, 2] } }).join(), /pixels: \(UINT8\) value #2 .*out of range \[0, 255\]/);
    assert.deepEqual(with0({ shape: [16], data: range(16), parameters: {} }), ['inputs.INPUT0.parameters: is not a member of a tensor (known: datatype, shape, data)']);
    assert.deepEqual(with0('1,2,3'), ['inputs.INPUT0: must be a nested array of values, or a tensor {"shape": [...], "data": [...]}']);
  });

  it('checks custom_ids: present, 1-64 printable characters, unique in the job (naming the first row)', () => {
    assert.deepEqual(problemsOf(SIMPLE, { inputs: simpleRow('x')['inputs'] }), ['custom_id: is missing: every row needs a custom_id (1-64 printable characters, unique in the job)']);
    for (const bad of ['', 'x'.repeat(65), 'tab\there', 'nul\u0000', 42]) {
      assert.deepEqual(problemsOf(SIMPLE, { ...simpleRow('x'), custom_id: bad }), ['custom_id: must be a string of 1-64 printable characters (no control characters)'], JSON.stringify(bad));
    }
    assert.deepEqual(problemsOf(SIMPLE, simpleRow('x'.repeat(64))), []);
    assert.deepEqual(problemsOf(SIMPLE, simpleRow('élève 42 ✓')), []);
    const validator = new RowValidator(SIMPLE);
    assert.ok('row' in validator.check(simpleRow('same'), 3));
    const again = validator.check(simpleRow('same'), 9);
    assert.ok('problems' in again);
    assert.deepEqual(again.problems, [{ row: 9, custom_id: 'same', field: 'custom_id', rule: 'is used by row 3 too: custom_ids must be unique in the job' }]);
    assert.deepEqual(problemsOf(SIMPLE, 'a row'), ['row: must be a JSON object {"custom_id": "...", "inputs": {...}}']);
  });

  it('remembers 300,000 custom_ids in a few MiB and finds every repeat with its first row', () => {
    const ids = new CustomIdSet();
    for (let row = 1; row <= 300_000; row++) assert.equal(ids.add(`patient-${row}-study`, row), 0);
    assert.equal(ids.size, 300_000);
    for (const row of [1, 4096, 299_999]) assert.equal(ids.add(`patient-${row}-study`, 400_000), row);
    assert.equal(ids.add('patient-300001-study', 300_001), 0);
  });

  it('keeps the first 100 problems and counts all of them in the 400', () => {
    const problems = new RowProblems();
    for (let row = 1; row <= 250; row++) problems.add([{ row, custom_id: `r${row}`, field: 'custom_id', rule: 'bad' }, { row, custom_id: `r${row}`, field: 'inputs', rule: 'bad too' }]);
    const error = problems.error(1000);
    assert.equal(error.code, 'INVALID_ARGUMENT');
    assert.match(error.message, /^250 of 1000 rows cannot be run \(500 problems\); nothing was created\. First: row 1 \(custom_id "r1"\) custom_id: bad; row 1 \(custom_id "r1"\) inputs: bad too; row 2/);
    assert.equal((error.details?.['errors'] as unknown[]).length, 100);
    assert.equal(error.details?.['error_count'], 500);
    assert.equal(error.details?.['invalid_rows'], 250);
  });
});
