import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'mocha';
import { projectRoot } from '../../src/protocol/project-paths';
import { float32Buffer, inferRequest, readFloat32 } from '../support/infer-request';
import { startLocalTritonFixture, type LocalTritonFixture } from '../support/local-triton-fixture';
import { TempRepository } from '../support/temp-repository';

interface Holdout {
  feature_names: string[];
  label_names: string[];
  cases: { features: number[]; label: number }[];
}

interface InferResponse {
  outputs: { name: string; datatype: string; shape: string[] }[];
  raw_output_contents: Buffer[];
}

const FEATURES = 30;
const MIN_ACCURACY = 0.95;

/** Probability pairs [P(malignant), P(benign)] for `rows` rows of features. */
async function classify(fixture: LocalTritonFixture, rows: number[][]): Promise<number[][]> {
  const response = await fixture.client.unary<InferResponse>('ModelInfer', inferRequest('breast_cancer_mlp', [
    { name: 'features', datatype: 'FP32', shape: [rows.length, FEATURES], raw: float32Buffer(rows.flat()) },
  ]));
  assert.deepEqual(response.outputs.map((o) => [o.name, o.datatype, o.shape.map(Number)]), [['probabilities', 'FP32', [rows.length, 2]]]);
  const flat = readFloat32(response.raw_output_contents[0] as Buffer);
  return rows.map((_, row) => flat.slice(row * 2, row * 2 + 2));
}

const argmax = (pair: number[]): number => ((pair[1] as number) > (pair[0] as number) ? 1 : 0);

describe('local-triton: breast_cancer_mlp on the held-out cases', () => {
  const holdout = JSON.parse(readFileSync(join(projectRoot(), 'test/fixtures/breast-cancer-holdout.json'), 'utf8')) as Holdout;
  let repository: TempRepository | undefined;
  let fixture: LocalTritonFixture;
  let oneByOne: number[][];
  let batched: number[][];

  before(async () => {
    repository = new TempRepository().copySample('breast_cancer_mlp');
    fixture = await startLocalTritonFixture({ modelRepository: repository.path });
    // One row per request, all in flight at once; then every row in one request.
    oneByOne = (await Promise.all(holdout.cases.map((c) => classify(fixture, [c.features])))).map((pairs) => pairs[0] as number[]);
    batched = await classify(fixture, holdout.cases.map((c) => c.features));
  });
  after(async () => {
    await fixture?.stop();
    repository?.remove();
  });

  const accuracy = (pairs: number[][]): number =>
    pairs.filter((pair, index) => argmax(pair) === holdout.cases[index]?.label).length / holdout.cases.length;

  it('the fixture holds 114 labelled cases of 30 features', () => {
    assert.equal(holdout.cases.length, 114);
    assert.equal(holdout.feature_names.length, FEATURES);
    assert.deepEqual(holdout.label_names, ['malignant', 'benign']);
    for (const c of holdout.cases) {
      assert.equal(c.features.length, FEATURES);
      assert.ok(c.label === 0 || c.label === 1);
    }
    assert.equal(holdout.cases.filter((c) => c.label === 0).length, 42);
  });

  it(`classifies at least ${MIN_ACCURACY * 100}% correctly, one row per request`, () => {
    assert.equal(oneByOne.length, holdout.cases.length);
    const value = accuracy(oneByOne);
    assert.ok(value >= MIN_ACCURACY, `accuracy ${value.toFixed(4)}`);
  });

  it(`classifies at least ${MIN_ACCURACY * 100}% correctly, all rows in one batched request`, () => {
    assert.equal(batched.length, holdout.cases.length);
    const value = accuracy(batched);
    assert.ok(value >= MIN_ACCURACY, `accuracy ${value.toFixed(4)}`);
  });

  it('both ways give the same predictions', () => {
    assert.deepEqual(oneByOne.map(argmax), batched.map(argmax));
    oneByOne.forEach((pair, index) => {
      const other = batched[index] as number[];
      assert.ok(Math.abs((pair[0] as number) - (other[0] as number)) <= 1e-6, `case ${index}: ${pair.join(',')} vs ${other.join(',')}`);
    });
  });

  it('each probability pair lies in [0, 1] and sums to 1 within 1e-5', () => {
    for (const [index, pair] of [...oneByOne, ...batched].entries()) {
      assert.equal(pair.length, 2);
      assert.ok(pair.every((p) => p >= 0 && p <= 1), `pair ${index}: ${pair.join(',')}`);
      assert.ok(Math.abs((pair[0] as number) + (pair[1] as number) - 1) <= 1e-5, `pair ${index} sums to ${(pair[0] as number) + (pair[1] as number)}`);
    }
  });
});
