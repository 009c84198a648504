import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { MessageJsonError } from '../../src/repository/message-json';
import {
  modelConfigFromJson, modelConfigToJson, modelConfigType, parseModelConfigText, printModelConfigText,
} from '../../src/repository/model-config-schema';
import { projectRoot } from '../../src/protocol/project-paths';
import { TextFormatError } from '../../src/repository/text-format-parser';
import { FIXTURE_DIR } from './fixture-schemas';
import { randomMessage, seededRandom } from './random-message';

const REPOSITORY_DIR = join(projectRoot(), 'model-repository');

/** Every config.pbtxt directly under model-repository/<model>/, as [model, text]. */
function repositoryConfigs(): [string, string][] {
  if (!existsSync(REPOSITORY_DIR)) return [];
  return readdirSync(REPOSITORY_DIR, { withFileTypes: true })
    .filter((entry) => entry.isDirectory() && existsSync(join(REPOSITORY_DIR, entry.name, 'config.pbtxt')))
    .map((entry) => [entry.name, readFileSync(join(REPOSITORY_DIR, entry.name, 'config.pbtxt'), 'utf8')]);
}

const fixture = (name: string): Record<string, unknown> => parseModelConfigText(readFileSync(join(FIXTURE_DIR, name), 'utf8'));

/** parse → print → parse gives the same object, printing is stable, and the JSON form reads back. */
function assertRoundTrips(config: Record<string, unknown>, label: string): void {
  const printed = printModelConfigText(config);
  assert.deepEqual(parseModelConfigText(printed), config, `${label}: reparse differs\n${printed}`);
  assert.equal(printModelConfigText(parseModelConfigText(printed)), printed, `${label}: printing is not stable`);
  const json = JSON.parse(JSON.stringify(modelConfigToJson(config))) as unknown;
  assert.deepEqual(modelConfigFromJson(json), config, `${label}: JSON round trip differs`);
}

describe('model-config-schema', () => {
  it('loads inference.ModelConfig once, with .proto field names', () => {
    const type = modelConfigType();
    assert.equal(type, modelConfigType());
    assert.equal(type.fullName, '.inference.ModelConfig');
    assert.ok(type.fields['max_batch_size'] !== undefined);
  });

  describe('model-repository configs', () => {
    const configs = repositoryConfigs();
    it('finds at least one config.pbtxt', () => assert.ok(configs.length > 0));
    for (const [model, text] of configs) {
      it(`parses, prints and reparses ${model}/config.pbtxt`, () => {
        const config = parseModelConfigText(text);
        assert.equal(config['name'], model);
        assertRoundTrips(config, model);
      });
    }
  });

  it('reads dynamic batching with a uint64-keyed priority_queue_policy, rate-limited instances and warmup', () => {
    const config = fixture('resnet50-dynamic.pbtxt');
    const batching = config['dynamic_batching'] as Record<string, unknown>;
    assert.deepEqual(batching['priority_queue_policy'], {
      '1': { timeout_action: 'DELAY', default_timeout_microseconds: 100000, allow_timeout_override: true },
      '3': { max_queue_size: 8 },
    });
    assert.deepEqual(batching['default_queue_policy'], { default_timeout_microseconds: 5000000, max_queue_size: 64 });
    assert.deepEqual(config['version_policy'], { specific: { versions: [1, 3] } });
    assert.deepEqual((config['instance_group'] as unknown[])[0], {
      count: 2, kind: 'KIND_GPU', gpus: [0, 1],
      rate_limiter: { resources: [{ name: 'R1', count: 4 }, { name: 'R2', global: true, count: 2 }], priority: 2 },
    });
    assert.deepEqual(config['parameters'], { intra_op_thread_count: { string_value: '4' }, enable_mem_arena: { string_value: '1' } });
    const warmup = config['model_warmup'] as Record<string, unknown>[];
    assert.deepEqual(warmup[0]?.['inputs'], { input: { data_type: 'TYPE_FP32', dims: [3, 224, 224], random_data: true } });
    const optimization = config['optimization'] as { execution_accelerators: { gpu_execution_accelerator: unknown[] } };
    assert.deepEqual(optimization.execution_accelerators.gpu_execution_accelerator[0], {
      name: 'tensorrt',
      parameters: { precision_mode: 'FP16', max_workspace_size_bytes: '1073741824', trt_engine_cache_enable: '1' },
    });
    assertRoundTrips(config, 'resnet50-dynamic');
  });

  it('reads sequence batching with control inputs and implicit state', () => {
    const config = fixture('stateful-sequence.pbtxt');
    const batching = config['sequence_batching'] as Record<string, unknown>;
    assert.deepEqual(batching['oldest'], { max_candidate_sequences: 4, preferred_batch_size: [4, 8], max_queue_delay_microseconds: 100 });
    assert.deepEqual((batching['control_input'] as unknown[])[0], {
      name: 'START', control: [{ fp32_false_true: [0, 1] }], // CONTROL_SEQUENCE_START is the enum default
    });
    assert.deepEqual((batching['control_input'] as unknown[])[3], {
      name: 'CORRID', control: [{ kind: 'CONTROL_SEQUENCE_CORRID', data_type: 'TYPE_UINT64' }],
    });
    assert.deepEqual((batching['state'] as Record<string, unknown>[])[0]?.['initial_state'], [
      { data_type: 'TYPE_FP32', dims: [1, 256], zero_data: true, name: 'initial state' },
    ]);
    assertRoundTrips(config, 'stateful-sequence');
  });

  it('reads ensemble steps with input_map and output_map', () => {
    const config = fixture('ensemble.pbtxt');
    assert.deepEqual(config['ensemble_scheduling'], {
      step: [
        { model_name: 'image_preprocess', model_version: -1, input_map: { INPUT: 'RAW_IMAGE' }, output_map: { OUTPUT: 'preprocessed_image' } },
        { model_name: 'resnet50_onnx', model_version: 3, input_map: { input: 'preprocessed_image' }, output_map: { probabilities: 'CLASSIFICATION' } },
      ],
    });
    assert.deepEqual(config['version_policy'], { latest: { num_versions: 2 } });
    assertRoundTrips(config, 'ensemble');
  });

  it('reads a hand-written config mixing separators, < > blocks, empty messages and concatenated strings', () => {
    const config = fixture('python-decoupled.pbtxt');
    assert.equal(config['name'], 'llm_stream');
    assert.deepEqual(config['version_policy'], { all: {} });
    assert.deepEqual((config['input'] as unknown[])[0], { name: 'text_input', data_type: 'TYPE_STRING', dims: [1], reshape: {} });
    assert.deepEqual(config['parameters'], {
      EXECUTION_ENV_PATH: { string_value: '$$TRITON_MODEL_DIRECTORY/env.tar.gz' },
      tokenizer: { string_value: 'tok-json/v2' },
    });
    assert.deepEqual(config['model_metrics'], {
      metric_control: [{ metric_identifier: { family: 'nv_inference_first_response_histogram_ms' }, histogram_options: { buckets: [1, 2, 4.5, 1000] } }],
    });
    assertRoundTrips(config, 'python-decoupled');
  });

  it('round-trips random ModelConfig objects through text and JSON', () => {
    for (let seed = 1; seed <= 200; seed += 1) {
      assertRoundTrips(randomMessage(modelConfigType(), seededRandom(seed), { negativeZero: false, maxDepth: 4 }), `seed ${seed}`);
    }
  });

  it('prints a config in canonical form', () => {
    const printed = printModelConfigText(parseModelConfigText(
      'name: "m" max_batch_size: 8 input [ { name: "INPUT0" data_type: TYPE_FP32 dims: [ 16 ] } ] dynamic_batching { }',
    ));
    assert.equal(printed, 'name: "m"\nmax_batch_size: 8\ninput {\n  name: "INPUT0"\n  data_type: TYPE_FP32\n  dims: [ 16 ]\n}\ndynamic_batching {}\n');
  });

  it('reports config errors with position and field', () => {
    const check = (text: string, line: number, column: number, fragment: string): void => {
      assert.throws(() => parseModelConfigText(text), (error: unknown) => {
        assert.ok(error instanceof TextFormatError);
        assert.deepEqual([error.line, error.column], [line, column], error.message);
        assert.ok(error.message.includes(fragment), error.message);
        return true;
      });
    };
    check('name: "m"\nmax_batch: 8', 2, 1, 'unknown field "max_batch" in inference.ModelConfig');
    check('name: "m"\n\n\nmax_batch_size: "8"', 4, 17, 'field "max_batch_size" expects an integer, got string "8"');
    check('max_batch_size: 5000000000', 1, 17, 'value 5000000000 out of range for int32');
    check('input { data_type: TYPE_FLOAT }', 1, 20,
      'unknown enum value "TYPE_FLOAT" for inference.DataType (expected one of TYPE_INVALID, TYPE_BOOL,');
    check('name: "a"\nname: "b"', 2, 1, 'field "name" set twice');
    check('dynamic_batching {}\nsequence_batching {}', 2, 1, 'oneof "scheduling_choice"');
  });

  describe('JSON config overrides', () => {
    it('reads Triton-style JSON with .proto names and int64 dims as strings', () => {
      const config = modelConfigFromJson({
        name: 'x', backend: 'onnxruntime', max_batch_size: 8,
        input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: ['16'] }],
      });
      assert.deepEqual(config, {
        name: 'x', backend: 'onnxruntime', max_batch_size: 8,
        input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [16] }],
      });
      assert.deepEqual(parseModelConfigText(printModelConfigText(config)), config);
    });

    it('reads lowerCamelCase names and case-insensitive enum names', () => {
      const config = modelConfigFromJson({
        name: 'x', maxBatchSize: 4,
        input: [{ name: 'INPUT0', dataType: 'type_fp32', dims: [16, '-1'] }],
        dynamicBatching: { priorityQueuePolicy: { '2': { timeoutAction: 'delay' } } },
        instanceGroup: [{ kind: 'kind_gpu', gpus: [0] }],
      });
      assert.deepEqual(config, {
        name: 'x', max_batch_size: 4,
        input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: [16, -1] }],
        dynamic_batching: { priority_queue_policy: { '2': { timeout_action: 'DELAY' } } },
        instance_group: [{ kind: 'KIND_GPU', gpus: [0] }],
      });
    });

    it('writes JSON with .proto names and int64 values as strings', () => {
      assert.deepEqual(modelConfigToJson(fixture('ensemble.pbtxt'))['ensemble_scheduling'], {
        step: [
          { model_name: 'image_preprocess', model_version: '-1', input_map: { INPUT: 'RAW_IMAGE' }, output_map: { OUTPUT: 'preprocessed_image' } },
          { model_name: 'resnet50_onnx', model_version: '3', input_map: { input: 'preprocessed_image' }, output_map: { probabilities: 'CLASSIFICATION' } },
        ],
      });
    });

    it('names the JSON path on errors', () => {
      const check = (json: unknown, pattern: RegExp): void => {
        assert.throws(() => modelConfigFromJson(json), (error: unknown) => error instanceof MessageJsonError && pattern.test(error.message));
      };
      check({ input: [{ data_type: 'TYPE_FLAOT' }] }, /^input\[0\]\.data_type: unknown enum value "TYPE_FLAOT" for inference\.DataType/);
      check({ max_batch: 8 }, /^max_batch: unknown field "max_batch" in inference\.ModelConfig/);
      check({ max_batch_size: '8.5' }, /^max_batch_size: expects an integer/);
      check({ input: [{ dims: ['99999999999999999999'] }] }, /^input\[0\]\.dims\[0\]: value 99999999999999999999 out of range for int64/);
      check({ dynamic_batching: {}, ensemble_scheduling: {} }, /^ensemble_scheduling: .*oneof "scheduling_choice"/);
    });
  });
});
