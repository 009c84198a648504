import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { TriageError } from '../../../src/errors/triage-error';
import { validateModelDirectory } from '../../../src/repository/validation/validate-model-directory';
import type { ModelValidation } from '../../../src/repository/validation/validation-problem';
import { SAMPLE_REPOSITORY, TempRepository } from '../../support/temp-repository';
import { CORPUS_DIR, corpusFiles } from '../corpus/corpus-files';
import { addWeightModel } from '../../support/onnx-builder';

const rulesOf = (validation: ModelValidation): string[] => validation.problems.map((problem) => problem.rule);

/** Rewrites a model folder's config.pbtxt through `edit`. */
function editConfig(folder: string, edit: (text: string) => string): void {
  const path = join(folder, 'config.pbtxt');
  const before = readFileSync(path, 'utf8');
  const after = edit(before);
  assert.notEqual(after, before, 'the edit changed nothing');
  writeFileSync(path, after);
}

describe('validateModelDirectory', () => {
  let repository: TempRepository;
  let counter = 0;
  before(() => { repository = new TempRepository(); });
  after(() => repository.remove());

  /** A fresh copy of a sample model in its own folder (named after the model unless `folder` says otherwise). */
  const copyOf = (sample: string, folder = sample): string => {
    const path = join(repository.path, `case-${counter += 1}`, folder);
    cpSync(join(SAMPLE_REPOSITORY, sample), path, { recursive: true });
    return path;
  };

  describe('the sample models', () => {
    for (const sample of ['simple', 'identity_fp32', 'breast_cancer_mlp']) {
      it(`validates ${sample} clean`, async () => {
        const validation = await validateModelDirectory(join(SAMPLE_REPOSITORY, sample), { expectedName: sample });
        assert.deepEqual(validation.problems, []);
        assert.equal(validation.name, sample);
        assert.deepEqual(validation.versions, ['1']);
        assert.equal(validation.config?.name, sample);
      });
    }
  });

  it('answers the name config.pbtxt sets, else the expected name, else null', async () => {
    assert.equal((await validateModelDirectory(join(SAMPLE_REPOSITORY, 'simple'), {})).name, 'simple');
    const unnamed = copyOf('simple');
    editConfig(unnamed, (text) => text.replace('name: "simple"\n', ''));
    assert.equal((await validateModelDirectory(unnamed, {})).name, null);
    const named = await validateModelDirectory(unnamed, { expectedName: 'simple' });
    assert.equal(named.name, 'simple');
    assert.deepEqual(named.problems, []);
  });

  it('throws NOT_FOUND for a folder that does not exist, and never for a bad model', async () => {
    await assert.rejects(validateModelDirectory(join(repository.path, 'nowhere'), {}), (error: unknown) => {
      assert.ok(error instanceof TriageError);
      assert.equal(error.code, 'NOT_FOUND');
      return true;
    });
    const empty = join(repository.path, `case-${counter += 1}`, 'empty');
    mkdirSync(empty, { recursive: true });
    assert.deepEqual(rulesOf(await validateModelDirectory(empty, {})), ['missing-config', 'no-versions']);
  });

  describe('one broken thing at a time', () => {
    it('config.pbtxt with a syntax error: the parser position', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => text.replace('max_batch_size: 8', 'max_batch_size 8 }'));
      const validation = await validateModelDirectory(folder, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => ({ path, rule })), [{ path: 'config.pbtxt:4:16', rule: 'config-parse' }]);
      assert.match(validation.problems[0]?.message ?? '', /^config\.pbtxt line 4, column 16: /);
      assert.equal(validation.config, null);
    });

    it('config.pbtxt with an unknown field: its line and column', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => text.replace('    dims: [ 16 ]\n  },\n  {\n    name: "INPUT1"', '    dimz: [ 16 ]\n  },\n  {\n    name: "INPUT1"'));
      const [problem] = (await validateModelDirectory(folder, {})).problems;
      assert.deepEqual(problem, { path: 'config.pbtxt:9:5', rule: 'config-parse', message: 'config.pbtxt line 9, column 5: unknown field "dimz" in inference.ModelInput' });
    });

    it('a config name that differs from the folder or the expected name', async () => {
      const folder = copyOf('simple', 'adder');
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['name-mismatch']);
      const [problem] = (await validateModelDirectory(folder, { expectedName: 'summer' })).problems;
      assert.equal(problem?.rule, 'name-mismatch');
      assert.match(problem?.message ?? '', /'simple'.*'summer'/);
    });

    it('a name Triton cannot use', async () => {
      for (const name of ['.hidden', '-flag', 'two words', 'x'.repeat(129), 'ü']) {
        const folder = copyOf('simple');
        editConfig(folder, (text) => text.replace('name: "simple"\n', ''));
        assert.deepEqual(rulesOf(await validateModelDirectory(folder, { expectedName: name })), ['name-format'], name);
      }
    });

    it('an unknown backend, listing the known ones', async () => {
      const folder = copyOf('identity_fp32');
      editConfig(folder, (text) => text.replace('backend: "identity"', 'backend: "identiti"'));
      const [problem] = (await validateModelDirectory(folder, {})).problems;
      assert.equal(problem?.rule, 'unknown-backend');
      assert.match(problem?.message ?? '', /'identiti'.*identity, repeat, square/);
    });

    it('a platform contradicting the backend', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => text.replace('platform: "onnxruntime_onnx"', 'platform: "tensorrt_plan"'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['platform-backend-mismatch']);
    });

    it('folders that are not version folders', async () => {
      const folder = copyOf('simple');
      mkdirSync(join(folder, 'v2'));
      mkdirSync(join(folder, '02'));
      writeFileSync(join(folder, 'notes.txt'), 'files beside config.pbtxt are fine');
      const validation = await validateModelDirectory(folder, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => `${rule} ${path}`).sort(), ['version-folder-name 02/', 'version-folder-name v2/']);
      assert.deepEqual(validation.versions, ['1']);
    });

    it('no version folder, even for an ensemble (Triton needs an empty 1/)', async () => {
      const folder = copyOf('simple');
      rmSync(join(folder, '1'), { recursive: true });
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['no-versions']);
      const ensemble = join(repository.path, `case-${counter += 1}`, 'cxr_triage');
      mkdirSync(ensemble, { recursive: true });
      cpSync(join(CORPUS_DIR, 'ensemble-radiology-triage.pbtxt'), join(ensemble, 'config.pbtxt'));
      assert.deepEqual(rulesOf(await validateModelDirectory(ensemble, {})), ['no-versions']);
      mkdirSync(join(ensemble, '1'));
      assert.deepEqual(rulesOf(await validateModelDirectory(ensemble, {})), []);
    });

    it('a version folder without its model file', async () => {
      const folder = copyOf('breast_cancer_mlp');
      cpSync(join(folder, '1'), join(folder, '2'), { recursive: true });
      rmSync(join(folder, '2', 'model.onnx'));
      const validation = await validateModelDirectory(folder, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => ({ path, rule })), [{ path: '2/', rule: 'missing-model-file' }]);
      assert.deepEqual(validation.versions, ['1', '2']);
    });

    it('default_model_filename names the model file', async () => {
      const folder = copyOf('simple');
      renameSync(join(folder, '1', 'model.onnx'), join(folder, '1', 'adder.onnx'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['missing-model-file']);
      editConfig(folder, (text) => `${text}default_model_filename: "adder.onnx"\n`);
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), []);
      editConfig(folder, (text) => text.replace('"adder.onnx"', '"../../adder.onnx"'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['file-outside-model']);
    });

    it('an ONNX model that is a folder holding model.onnx (external data)', async () => {
      const folder = copyOf('simple');
      mkdirSync(join(folder, '1', 'tmp'));
      renameSync(join(folder, '1', 'model.onnx'), join(folder, '1', 'tmp', 'model.onnx'));
      renameSync(join(folder, '1', 'tmp'), join(folder, '1', 'model.onnx'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), []);
      rmSync(join(folder, '1', 'model.onnx', 'model.onnx'));
      const validation = await validateModelDirectory(folder, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => ({ path, rule })), [{ path: '1/model.onnx/model.onnx', rule: 'missing-model-file' }]);
    });

    it('the model file of other backends: a SavedModel is a folder, OpenVINO needs its weights', async () => {
      const savedModel = copyOf('identity_fp32', 'tf');
      writeFileSync(join(savedModel, 'config.pbtxt'), 'platform: "tensorflow_savedmodel"\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]\n');
      writeFileSync(join(savedModel, '1', 'model.savedmodel'), 'not a folder');
      assert.deepEqual(rulesOf(await validateModelDirectory(savedModel, {})), ['missing-model-file']);
      rmSync(join(savedModel, '1', 'model.savedmodel'));
      mkdirSync(join(savedModel, '1', 'model.savedmodel'));
      assert.deepEqual(rulesOf(await validateModelDirectory(savedModel, {})), []);

      const openvino = copyOf('identity_fp32', 'ov');
      writeFileSync(join(openvino, 'config.pbtxt'), 'backend: "openvino"\ninput [ { name: "x" data_type: TYPE_FP32 dims: [ 1 ] } ]\noutput [ { name: "y" data_type: TYPE_FP32 dims: [ 1 ] } ]\n');
      writeFileSync(join(openvino, '1', 'model.xml'), '<net/>');
      const validation = await validateModelDirectory(openvino, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => ({ path, rule })), [{ path: '1/model.bin', rule: 'missing-model-file' }]);
    });

    it('recognizes an ONNX model from its file when the config names no backend, and checks its graph', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => text.replace('platform: "onnxruntime_onnx"\nbackend: "onnxruntime"\n', '').replace('"OUTPUT1"', '"OUTPUT9"'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['onnx-output-missing']);
      rmSync(join(folder, '1', 'model.onnx'));
      writeFileSync(join(folder, '1', 'weights.bin'), 'x');
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['missing-backend']);
    });

    it('follows symbolic links as Triton does; a dangling or looping link is nothing', async () => {
      const folder = copyOf('simple');
      renameSync(join(folder, '1'), join(folder, 'v1-files'));
      symlinkSync('v1-files', join(folder, '1'));
      const linked = await validateModelDirectory(folder, {});
      assert.deepEqual(linked.problems.map(({ path, rule }) => `${rule} ${path}`), ['version-folder-name v1-files/']);
      assert.deepEqual(linked.versions, ['1']);
      rmSync(join(folder, 'v1-files', 'model.onnx'));
      symlinkSync('nowhere.onnx', join(folder, 'v1-files', 'model.onnx'));
      mkdirSync(join(folder, '2'));
      symlinkSync('model.onnx', join(folder, '2', 'model.onnx'));
      const dangling = await validateModelDirectory(folder, { versions: ['1', '2'] });
      assert.deepEqual(dangling.problems.map(({ path, rule }) => `${rule} ${path}`), ['version-folder-name v1-files/', 'missing-model-file 1/', 'missing-model-file 2/']);
    });

    it('duplicate input names', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => text.replace('name: "INPUT1"', 'name: "INPUT0"'));
      // The graph's INPUT1 is then undeclared too.
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['duplicate-tensor-name', 'onnx-input-undeclared']);
    });

    it('a data type that is not a tensor type', async () => {
      const folder = copyOf('identity_fp32');
      editConfig(folder, (text) => text.replace('data_type: TYPE_FP32\n    dims: [ -1 ]\n  }\n]\noutput', 'data_type: TYPE_INVALID\n    dims: [ -1 ]\n  }\n]\noutput'));
      const validation = await validateModelDirectory(folder, {});
      assert.deepEqual(validation.problems.map(({ path, rule }) => ({ path, rule })), [{ path: 'input[0].data_type', rule: 'invalid-datatype' }]);
    });

    it('a dim of 0', async () => {
      const folder = copyOf('identity_fp32');
      editConfig(folder, (text) => text.replace('dims: [ -1 ]', 'dims: [ 0 ]'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['invalid-dims']);
    });

    it('a preferred batch size above max_batch_size', async () => {
      const folder = copyOf('breast_cancer_mlp');
      editConfig(folder, (text) => text.replace('[ 64, 128, 256 ]', '[ 64, 128, 512 ]'));
      const [problem] = (await validateModelDirectory(folder, {})).problems;
      assert.deepEqual([problem?.path, problem?.rule], ['dynamic_batching.preferred_batch_size[2]', 'preferred-batch-size']);
    });

    it('a label file that is not there', async () => {
      const folder = copyOf('breast_cancer_mlp');
      editConfig(folder, (text) => text.replace('dims: [ 2 ]', 'dims: [ 2 ]\n    label_filename: "labels.txt"'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['missing-label-file']);
      writeFileSync(join(folder, 'labels.txt'), 'malignant\nbenign\n');
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), []);
    });

    it('a specific version policy naming a version that is not there', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => `${text}version_policy { specific { versions: [ 1, 4 ] } }\n`);
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['version-policy']);
    });
  });

  describe('the ONNX graph against the config', () => {
    const cases: [string, string, (text: string) => string, string[]][] = [
      ['a config input the graph lacks', 'simple', (text) => text.replace('"INPUT1"', '"INPUT2"'), ['onnx-input-missing', 'onnx-input-undeclared']],
      ['an element type that differs', 'simple', (text) => text.replace('data_type: TYPE_INT32', 'data_type: TYPE_FP32'), ['onnx-type-mismatch']],
      ['a rank that differs', 'breast_cancer_mlp', (text) => text.replace('dims: [ 30 ]', 'dims: [ 30, 1 ]'), ['onnx-rank-mismatch']],
      ['a rank that differs because the model does not batch', 'breast_cancer_mlp', (text) => text.replace('max_batch_size: 256', 'max_batch_size: 0').replace(/dynamic_batching \{[^}]*\}\n/, ''), ['onnx-rank-mismatch', 'onnx-rank-mismatch']],
      ['a fixed dim that differs', 'breast_cancer_mlp', (text) => text.replace('dims: [ 2 ]', 'dims: [ 3 ]'), ['onnx-dims-mismatch']],
      ['a reshape the graph agrees with', 'breast_cancer_mlp', (text) => text.replace('dims: [ 30 ]', 'dims: [ 5, 6 ]\n    reshape { shape: [ 30 ] }'), []],
    ];
    for (const [label, sample, edit, rules] of cases) {
      it(label, async () => {
        const folder = copyOf(sample);
        editConfig(folder, edit);
        const validation = await validateModelDirectory(folder, {});
        assert.deepEqual(rulesOf(validation), rules);
        for (const problem of validation.problems) assert.equal(problem.path, '1/model.onnx');
      });
    }

    it('a truncated or corrupt model.onnx is a problem, not a crash', async () => {
      const folder = copyOf('breast_cancer_mlp');
      const bytes = readFileSync(join(folder, '1', 'model.onnx'));
      writeFileSync(join(folder, '1', 'model.onnx'), bytes.subarray(0, bytes.length - 40));
      const [problem] = (await validateModelDirectory(folder, {})).problems;
      assert.equal(problem?.rule, 'onnx-unreadable');
      assert.match(problem?.message ?? '', /^1\/model\.onnx is not a readable ONNX model \(byte \d+: /);
      writeFileSync(join(folder, '1', 'model.onnx'), 'version https://git-lfs.github.com/spec/v1\noid sha256:0\nsize 3253\n');
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['onnx-unreadable']);
    });

    it('does not count initializers listed among the graph inputs as inputs', async () => {
      const folder = copyOf('identity_fp32', 'add_weight');
      writeFileSync(join(folder, 'config.pbtxt'), 'backend: "onnxruntime"\nmax_batch_size: 8\ninput [ { name: "X" data_type: TYPE_FP32 dims: [ 4 ] } ]\noutput [ { name: "Y" data_type: TYPE_FP32 dims: [ 4 ] } ]\n');
      writeFileSync(join(folder, '1', 'model.onnx'), addWeightModel());
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), []);
    });
  });

  describe('the versions option', () => {
    it('validates only the listed versions, which must exist', async () => {
      const folder = copyOf('simple');
      mkdirSync(join(folder, '2'));
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, {})), ['missing-model-file']);
      const one = await validateModelDirectory(folder, { versions: ['1'] });
      assert.deepEqual([one.versions, rulesOf(one)], [['1'], []]);
      const missing = await validateModelDirectory(folder, { versions: ['1', '7', '01'] });
      assert.deepEqual([missing.versions, missing.problems.map(({ path, rule }) => `${rule} ${path}`)], [['1'], ['missing-version 7/', 'version-folder-name 01/']]);
    });

    it('does not hold a version policy against a partial selection', async () => {
      const folder = copyOf('simple');
      editConfig(folder, (text) => `${text}version_policy { specific { versions: [ 3 ] } }\n`);
      assert.deepEqual(rulesOf(await validateModelDirectory(folder, { versions: ['1'] })), []);
    });
  });

  it('lists every problem of a folder with many at once', async () => {
    const folder = copyOf('simple', 'adder');
    editConfig(folder, (text) => text
      .replace('name: "INPUT1"', 'name: "INPUT0"')
      .replace('dims: [ 16 ]\n  }\n]\noutput', 'dims: [ 16, 0 ]\n  }\n]\noutput')
      .replace('"OUTPUT1"', '"OUTPUT2"'));
    mkdirSync(join(folder, '2'));
    mkdirSync(join(folder, 'latest'));
    const validation = await validateModelDirectory(folder, { expectedName: 'adder' });
    assert.deepEqual(validation.problems.map(({ path, rule }) => `${rule} ${path}`), [
      'name-mismatch name',
      'version-folder-name latest/',
      'duplicate-tensor-name input[1].name',
      'invalid-dims input[1].dims',
      'onnx-rank-mismatch 1/model.onnx', // the second INPUT0, [16, 0], against the graph's INPUT0
      'onnx-output-missing 1/model.onnx',
      'onnx-input-undeclared 1/model.onnx',
      'missing-model-file 2/',
    ]);
    assert.deepEqual(validation.versions, ['1', '2']);
    for (const problem of validation.problems) assert.ok(problem.message.length > 20, problem.message);
  });

  it('finds nothing wrong with a folder for each corpus config but the files the test does not write', async () => {
    for (const { file, text } of corpusFiles()) {
      const name = /^name: "([^"]+)"/m.exec(text)?.[1] ?? '';
      const folder = join(repository.path, `case-${counter += 1}`, name);
      mkdirSync(join(folder, '1'), { recursive: true });
      writeFileSync(join(folder, 'config.pbtxt'), text);
      const rules = rulesOf(await validateModelDirectory(folder, {}));
      // Only version 1/ exists, empty: no model files, no label files, and version 3 of a specific policy is missing.
      const absent = ['missing-model-file', 'missing-label-file', 'version-policy'];
      assert.ok(rules.every((rule) => absent.includes(rule)), `${file}: ${rules.join(', ')}`);
    }
  });
});
