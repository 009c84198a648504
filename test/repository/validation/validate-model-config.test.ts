import assert from 'node:assert/strict';
import type { ModelConfigObject } from '../../../src/local-triton/models/model-config-types';
import { parseModelConfigText } from '../../../src/repository/model-config-schema';
import { reshapeMismatch } from '../../../src/repository/validation/tensor-rules';
import { validateModelConfig } from '../../../src/repository/validation/validate-model-config';
import { VALIDATION_RULES, type ValidationProblem } from '../../../src/repository/validation/validation-problem';
import { corpusFiles } from '../corpus/corpus-files';

/** The problems of a config written as text. */
function problemsOf(text: string): ValidationProblem[] {
  return validateModelConfig(parseModelConfigText(text) as ModelConfigObject).problems;
}

/** Asserts the exact rule ids found, in order, and returns the problems. */
function expectRules(text: string, rules: readonly string[]): ValidationProblem[] {
  const problems = problemsOf(text);
  assert.deepEqual(problems.map((problem) => problem.rule), rules, JSON.stringify(problems, null, 2));
  for (const problem of problems) assert.ok(problem.message.length > 10 && problem.path.length > 0, JSON.stringify(problem));
  return problems;
}

const TENSORS = `
input [ { name: "x" data_type: TYPE_FP32 dims: [ 4 ] } ]
output [ { name: "y" data_type: TYPE_FP32 dims: [ 4 ] } ]`;

describe('validateModelConfig', () => {
  it('finds no problem in any corpus configuration', () => {
    for (const { file, text } of corpusFiles()) assert.deepEqual(problemsOf(text), [], file);
  });

  it('has stable, unique, kebab-case rule ids', () => {
    assert.equal(new Set(VALIDATION_RULES).size, VALIDATION_RULES.length);
    for (const rule of VALIDATION_RULES) assert.match(rule, /^[a-z0-9]+(-[a-z0-9]+)*$/);
  });

  describe('backend and platform', () => {
    it('resolves the backend from the platform and the platform from the backend', () => {
      const fromPlatform = validateModelConfig(parseModelConfigText(`platform: "tensorflow_graphdef" ${TENSORS}`) as ModelConfigObject);
      assert.deepEqual(fromPlatform, { backend: { backend: 'tensorflow', platform: 'tensorflow_graphdef' }, problems: [] });
      const fromBackend = validateModelConfig(parseModelConfigText(`backend: "onnxruntime" ${TENSORS}`) as ModelConfigObject);
      assert.deepEqual(fromBackend.backend, { backend: 'onnxruntime', platform: 'onnxruntime_onnx' });
    });

    it('recognizes the framework from the first version folder when the config names neither', () => {
      const config = parseModelConfigText(TENSORS) as ModelConfigObject;
      const savedModel = validateModelConfig(config, [{ name: 'model.savedmodel', isDirectory: true }]);
      assert.deepEqual(savedModel, { backend: { backend: 'tensorflow', platform: 'tensorflow_savedmodel' }, problems: [] });
      assert.equal(validateModelConfig(config, [{ name: 'model.py', isDirectory: false }]).backend.backend, 'python');
      // A *file* named model.savedmodel is not a SavedModel.
      const none = validateModelConfig(config, [{ name: 'model.savedmodel', isDirectory: false }, { name: 'notes.txt', isDirectory: false }]);
      assert.deepEqual(none.problems.map((problem) => problem.rule), ['missing-backend']);
      const byFilename = validateModelConfig(parseModelConfigText(`default_model_filename: "model.plan" ${TENSORS}`) as ModelConfigObject);
      assert.equal(byFilename.backend.backend, 'tensorrt');
    });

    it('refuses unknown backends and platforms, naming the known ones', () => {
      const [backend] = expectRules(`backend: "onnx" ${TENSORS}`, ['unknown-backend']);
      assert.match(backend?.message ?? '', /'onnx'.*onnxruntime, tensorrt, pytorch, tensorflow, python, openvino, fil, dali, identity, repeat, square/);
      assert.equal(backend?.path, 'backend');
      expectRules(`platform: "caffe2_netdef" ${TENSORS}`, ['unknown-platform']);
    });

    it('refuses a platform and backend that contradict each other', () => {
      const [problem] = expectRules(`platform: "tensorrt_plan" backend: "onnxruntime" ${TENSORS}`, ['platform-backend-mismatch']);
      assert.match(problem?.message ?? '', /tensorrt_plan.*tensorrt.*onnxruntime/);
      expectRules(`platform: "onnxruntime_onnx" backend: "python" ${TENSORS}`, ['platform-backend-mismatch']);
      expectRules(`platform: "pytorch_libtorch" backend: "pytorch" ${TENSORS}`, []);
    });
  });

  describe('inputs and outputs', () => {
    it('refuses a duplicate name within the inputs, and a missing name', () => {
      const problems = expectRules(`backend: "identity"
        input [ { name: "a" data_type: TYPE_FP32 dims: [ 1 ] }, { data_type: TYPE_FP32 dims: [ 1 ] }, { name: "a" data_type: TYPE_FP32 dims: [ 1 ] } ]
        output [ { name: "a" data_type: TYPE_FP32 dims: [ 1 ] } ]`, ['missing-tensor-name', 'duplicate-tensor-name']);
      assert.deepEqual(problems.map((problem) => problem.path), ['input[1].name', 'input[2].name']);
      assert.match(problems[1]?.message ?? '', /input\[0\] and input\[2\]/);
    });

    it('refuses a missing or invalid data_type', () => {
      const problems = expectRules(`backend: "identity"
        input [ { name: "a" dims: [ 1 ] } ]
        output [ { name: "b" data_type: TYPE_INVALID dims: [ 1 ] } ]`, ['invalid-datatype', 'invalid-datatype']);
      assert.deepEqual(problems.map((problem) => problem.path), ['input[0].data_type', 'output[0].data_type']);
    });

    it('refuses empty dims, 0 and values below -1, and accepts -1', () => {
      const problems = expectRules(`backend: "identity"
        input [ { name: "a" data_type: TYPE_FP32 dims: [ ] }, { name: "b" data_type: TYPE_FP32 dims: [ 4, 0 ] }, { name: "c" data_type: TYPE_FP32 dims: [ -1, -2 ] } ]
        output [ { name: "d" data_type: TYPE_FP32 dims: [ -1, 7 ] } ]`, ['invalid-dims', 'invalid-dims', 'invalid-dims']);
      assert.deepEqual(problems.map((problem) => problem.path), ['input[0].dims', 'input[1].dims', 'input[2].dims']);
      assert.match(problems[1]?.message ?? '', /input 'b'.*0 is not allowed.*\[4, 0\]/);
    });

    it('checks reshape as Triton does', () => {
      assert.equal(reshapeMismatch([2, 4, -1, 6], [8, -1, 1, 6]), null);
      assert.equal(reshapeMismatch([1], []), null);
      assert.equal(reshapeMismatch([1, 1], []), null);
      assert.equal(reshapeMismatch([6], [2, 3]), null);
      assert.match(reshapeMismatch([6], [4]) ?? '', /different numbers of elements/);
      assert.match(reshapeMismatch([2], []) ?? '', /one element/);
      assert.match(reshapeMismatch([-1], []) ?? '', /one element/);
      assert.match(reshapeMismatch([-1, 4], [4]) ?? '', /variable-size/);
      assert.match(reshapeMismatch([2, -1, 4], [4, -1, 2]) ?? '', /different numbers of elements/);
      expectRules(`backend: "identity" max_batch_size: 4
        input [ { name: "a" data_type: TYPE_FP32 dims: [ 6 ] reshape { shape: [ 4 ] } } ]
        output [ { name: "b" data_type: TYPE_FP32 dims: [ 1 ] reshape { shape: [ 0 ] } } ]`, ['invalid-reshape', 'invalid-reshape']);
      // An empty reshape (a scalar) needs a batching model.
      expectRules(`backend: "identity" max_batch_size: 0
        input [ { name: "a" data_type: TYPE_FP32 dims: [ 1 ] reshape { } } ]
        output [ { name: "b" data_type: TYPE_FP32 dims: [ 1 ] } ]`, ['invalid-reshape']);
    });

    it('limits NHWC/NCHW to 3 dims and shape tensors to TensorRT', () => {
      expectRules(`backend: "onnxruntime"
        input [ { name: "a" data_type: TYPE_FP32 format: FORMAT_NCHW dims: [ 224, 224 ] }, { name: "s" data_type: TYPE_INT32 dims: [ 2 ] is_shape_tensor: true } ]
        output [ { name: "b" data_type: TYPE_FP32 dims: [ 1 ] } ]`, ['invalid-format', 'shape-tensor']);
      expectRules(`platform: "tensorrt_plan"
        input [ { name: "s" data_type: TYPE_INT32 dims: [ 2 ] is_shape_tensor: true } ]
        output [ { name: "b" data_type: TYPE_FP32 dims: [ 1 ] } ]`, []);
    });

    it('checks batch inputs and outputs against the inputs and outputs', () => {
      const problems = expectRules(`backend: "pytorch" max_batch_size: 8 ${TENSORS}
        batch_input [ { kind: BATCH_ELEMENT_COUNT target_name: "n" data_type: TYPE_INT64 source_input: [ "x", "z" ] } ]
        batch_output [ { target_name: [ "y", "w" ] source_input: "x" } ]`, ['batch-io', 'batch-io', 'batch-io', 'batch-io']);
      assert.deepEqual(problems.map((problem) => problem.path), ['batch_input[0].source_input', 'batch_input[0].source_input', 'batch_input[0].data_type', 'batch_output[0].target_name']);
    });
  });

  describe('batching', () => {
    it('refuses a negative max_batch_size', () => {
      expectRules(`backend: "identity" max_batch_size: -1 ${TENSORS}`, ['max-batch-size']);
    });

    it('keeps preferred batch sizes within [1, max_batch_size], and refuses them when the model does not batch', () => {
      const problems = expectRules(`backend: "onnxruntime" max_batch_size: 8 ${TENSORS}
        dynamic_batching { preferred_batch_size: [ 4, 16, 0 ] }`, ['preferred-batch-size', 'preferred-batch-size']);
      assert.deepEqual(problems.map((problem) => problem.path), ['dynamic_batching.preferred_batch_size[1]', 'dynamic_batching.preferred_batch_size[2]']);
      const [unbatched] = expectRules(`backend: "onnxruntime" max_batch_size: 0 ${TENSORS}
        dynamic_batching { preferred_batch_size: [ 4 ] }`, ['preferred-batch-size']);
      assert.match(unbatched?.message ?? '', /max_batch_size is 0/);
      // A dynamic batcher on a model that does not batch is allowed (it still queues and orders).
      expectRules(`backend: "onnxruntime" max_batch_size: 0 ${TENSORS} dynamic_batching { max_queue_delay_microseconds: 100 }`, []);
      expectRules(`backend: "onnxruntime" max_batch_size: 4 ${TENSORS}
        sequence_batching { oldest { preferred_batch_size: [ 8 ] } }`, ['preferred-batch-size']);
    });

    it('keeps the default priority level and queue policies within the priority levels', () => {
      const problems = expectRules(`backend: "onnxruntime" max_batch_size: 8 ${TENSORS}
        dynamic_batching {
          priority_levels: 2
          default_priority_level: 3
          priority_queue_policy { key: 0 value { max_queue_size: 1 } }
          priority_queue_policy { key: 2 value { max_queue_size: 1 } }
        }`, ['priority-level', 'priority-level']);
      assert.deepEqual(problems.map((problem) => problem.path), ['dynamic_batching.default_priority_level', 'dynamic_batching.priority_queue_policy[0]']);
      expectRules(`backend: "onnxruntime" max_batch_size: 8 ${TENSORS} dynamic_batching { priority_levels: 2 }`, ['priority-level']);
    });

    it('refuses preserve_ordering with several priority levels or delayed timeouts', () => {
      expectRules(`backend: "onnxruntime" max_batch_size: 8 ${TENSORS}
        dynamic_batching {
          preserve_ordering: true
          priority_levels: 2
          default_priority_level: 1
          default_queue_policy { timeout_action: DELAY default_timeout_microseconds: 10 }
        }`, ['preserve-ordering', 'preserve-ordering']);
    });

    it('refuses the response cache with sequence batching or a decoupled model', () => {
      expectRules(`backend: "python" ${TENSORS} response_cache { enable: true } model_transaction_policy { decoupled: true }`, ['response-cache']);
      expectRules(`backend: "python" ${TENSORS} response_cache { enable: true } sequence_batching { }`, ['response-cache']);
    });
  });

  describe('sequence batching', () => {
    it('checks every control tensor and reports each problem', () => {
      const problems = expectRules(`backend: "onnxruntime" max_batch_size: 4 ${TENSORS}
        sequence_batching {
          direct { minimum_slot_utilization: 1.5 }
          control_input [
            { name: "START" control [ { kind: CONTROL_SEQUENCE_START int32_false_true: [ 0, 1, 2 ] } ] },
            { name: "START" control [ { kind: CONTROL_SEQUENCE_END int32_false_true: [ 0, 1 ] fp32_false_true: [ 0, 1 ] } ] },
            { name: "READY" control [ { kind: CONTROL_SEQUENCE_READY } ] },
            { name: "AGAIN" control [ { kind: CONTROL_SEQUENCE_READY bool_false_true: [ false, true ] } ] },
            { name: "CORRID" control [ { kind: CONTROL_SEQUENCE_CORRID data_type: TYPE_FP32 int32_false_true: [ 0, 1 ] } ] }
          ]
          state [ { input_name: "h" data_type: TYPE_FP32 dims: [ 0 ] } ]
        }`, [
        'sequence-control', // START: 3 values
        'sequence-control', // the name START twice
        'sequence-control', // END: two kinds of values
        'sequence-control', // READY: no values
        'sequence-control', // READY twice
        'sequence-control', // CORRID with values
        'sequence-control', // CORRID type
        'sequence-strategy',
        'sequence-state', // no output_name
        'sequence-state', // dims [0]
      ]);
      assert.equal(problems[0]?.path, 'sequence_batching.control_input[0].control[0].int32_false_true');
      assert.match(problems[4]?.message ?? '', /CONTROL_SEQUENCE_READY is given twice \(tensors 'READY' and 'AGAIN'\)/);
    });
  });

  describe('ensembles', () => {
    const ENSEMBLE_IO = `
      input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] } ]
      output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] } ]`;

    it('accepts a well-wired ensemble', () => {
      expectRules(`platform: "ensemble" max_batch_size: 4 ${ENSEMBLE_IO}
        ensemble_scheduling { step [
          { model_name: "a" model_version: -1 input_map { key: "x" value: "IN" } output_map { key: "y" value: "mid" } },
          { model_name: "b" model_version: -1 input_map { key: "x" value: "mid" } output_map { key: "y" value: "OUT" } }
        ] }`, []);
    });

    it('refuses a platform and ensemble_scheduling that do not go together, and fields an ensemble cannot have', () => {
      expectRules(`platform: "ensemble" ${ENSEMBLE_IO}`, ['ensemble-scheduling']);
      expectRules(`backend: "python" ${ENSEMBLE_IO}
        ensemble_scheduling { step [ { model_name: "a" input_map { key: "x" value: "IN" } output_map { key: "y" value: "OUT" } } ] }`, ['ensemble-scheduling']);
      expectRules(`platform: "ensemble" backend: "onnxruntime" ${ENSEMBLE_IO}
        ensemble_scheduling { step [ { model_name: "a" input_map { key: "x" value: "IN" } output_map { key: "y" value: "OUT" } } ] }
        instance_group [ { kind: KIND_CPU } ]
        model_warmup [ { name: "w" batch_size: 1 } ]`, ['platform-backend-mismatch', 'ensemble-field', 'ensemble-field']);
    });

    it('refuses steps without a model name or with empty maps and map names', () => {
      const problems = expectRules(`platform: "ensemble" ${ENSEMBLE_IO}
        ensemble_scheduling { step [
          { input_map { key: "x" value: "IN" } output_map { key: "y" value: "OUT" } },
          { model_name: "b" input_map { key: "" value: "IN" } }
        ] }`, ['ensemble-step', 'ensemble-step', 'ensemble-step']);
      assert.deepEqual(problems.map((problem) => problem.path), [
        'ensemble_scheduling.step[0].model_name', 'ensemble_scheduling.step[1].input_map', 'ensemble_scheduling.step[1].output_map',
      ]);
      expectRules(`platform: "ensemble" ${ENSEMBLE_IO} ensemble_scheduling { }`, ['ensemble-step']);
    });

    it('follows the data flow: unread inputs, unwritten outputs, dangling and doubly written tensors', () => {
      const problems = expectRules(`platform: "ensemble"
        input [ { name: "IN" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "UNUSED" data_type: TYPE_FP32 dims: [ 4 ] } ]
        output [ { name: "OUT" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "NEVER" data_type: TYPE_FP32 dims: [ 4 ] }, { name: "STUCK" data_type: TYPE_FP32 dims: [ 4 ] } ]
        ensemble_scheduling { step [
          { model_name: "a" input_map { key: "x" value: "IN" } output_map [ { key: "y" value: "OUT" }, { key: "z" value: "spare" } ] },
          { model_name: "b" input_map { key: "x" value: "IN" } output_map { key: "y" value: "OUT" } },
          { model_name: "c" input_map { key: "x" value: "ghost" } output_map { key: "y" value: "STUCK" } }
        ] }`, ['ensemble-data-flow', 'ensemble-data-flow', 'ensemble-data-flow', 'ensemble-data-flow', 'ensemble-data-flow', 'ensemble-data-flow']);
      const messages = problems.map((problem) => problem.message).join('\n');
      assert.match(messages, /'OUT' is written by step 0 and again by step 1/);
      assert.match(messages, /input 'UNUSED' is not read by any step/);
      assert.match(messages, /output 'NEVER' is not written by any step/);
      assert.match(messages, /output 'STUCK' is never computed/);
      assert.match(messages, /'spare' written by step 0 is neither read by a step nor an ensemble output/);
      assert.match(messages, /'ghost' is read by step 2 but is neither an ensemble input nor written by any step/);
    });
  });

  it('refuses GPUs on CPU and model instance groups, and TensorRT profiles elsewhere', () => {
    const problems = expectRules(`backend: "onnxruntime" ${TENSORS}
      instance_group [ { kind: KIND_CPU gpus: [ 0 ] }, { kind: KIND_GPU gpus: [ -1 ] profile: [ "0" ] } ]`, ['instance-group', 'instance-group', 'instance-group']);
    assert.deepEqual(problems.map((problem) => problem.path), ['instance_group[0].gpus', 'instance_group[1].gpus', 'instance_group[1].profile']);
  });

  it('lists every problem of a config with many at once', () => {
    const problems = problemsOf(`backend: "onnxrt" max_batch_size: 2
      input [ { name: "a" data_type: TYPE_FP32 dims: [ 0 ] }, { name: "a" dims: [ 1 ] } ]
      output [ { name: "b" data_type: TYPE_FP32 dims: [ 4 ] reshape { shape: [ 3 ] } } ]
      dynamic_batching { preferred_batch_size: [ 4 ] }
      instance_group [ { kind: KIND_CPU gpus: [ 1 ] } ]`);
    assert.deepEqual(problems.map((problem) => problem.rule), [
      'unknown-backend', 'invalid-dims', 'duplicate-tensor-name', 'invalid-datatype', 'invalid-reshape', 'preferred-batch-size', 'instance-group',
    ]);
  });
});
