import assert from 'node:assert/strict';
import { before, describe, it } from 'mocha';
import { grpcDefinitions } from '../../src/protocol/grpc-definitions';
import { JsonInteger, stringifyExact } from '../../src/proxy/rest/exact-json';
import { modelConfigJson } from '../../src/proxy/rest/model-config-json';
import { statisticsJson } from '../../src/proxy/rest/statistics-json';

/** A ModelConfig through the real codec: encoded as an instance sends it, decoded as triage reads it. */
function throughCodec(config: Record<string, unknown>): Record<string, unknown> {
  const codec = grpcDefinitions().inference['ModelConfig'];
  assert.ok(codec !== undefined);
  const decoded = codec.responseDeserialize(codec.responseSerialize({ config })) as { config: Record<string, unknown> };
  return decoded.config;
}

// A JSON document under test: `any` so that assertions can reach into it.
type JsonDocument = Record<string, any>;

describe('KServe v2 REST: JSON documents as Triton writes them', () => {
  let config: JsonDocument;
  before(() => {
    config = JSON.parse(stringifyExact(modelConfigJson(throughCodec({
      name: 'm',
      max_batch_size: 4,
      version_policy: { specific: { versions: ['1', '3'] } },
      input: [{ name: 'x', data_type: 'TYPE_FP32', dims: ['-1', '16'], reshape: { shape: ['4', '4'] } }],
      dynamic_batching: { max_queue_delay_microseconds: '100', priority_levels: '2', priority_queue_policy: { 2: { default_timeout_microseconds: '5' } } },
      sequence_batching: {
        control_input: [{ name: 'c', control: [{ kind: 'CONTROL_SEQUENCE_START', fp32_false_true: [0, 0.1] }] }],
        state: [{ input_name: 'i', output_name: 'o', data_type: 'TYPE_INT32', dims: ['4'], initial_state: [{ name: 'z', data_type: 'TYPE_INT32', dims: ['4'], zero_data: true }] }],
      },
      ensemble_scheduling: { step: [{ model_name: 'a', model_version: '-1', input_map: { x: 'y' }, output_map: { p: 'q' } }] },
      instance_group: [{ kind: 'KIND_GPU', secondary_devices: [{ kind: 'KIND_NVDLA', device_id: '2' }] }],
      parameters: { key: { string_value: 'value' } },
    })))) as JsonDocument;
  });

  it('writes the 64-bit fields Triton fixes up as numbers, and leaves the others as strings as Triton does', () => {
    assert.deepEqual(config['input'][0].dims, [-1, 16]);
    assert.deepEqual(config['input'][0].reshape.shape, [4, 4]);
    assert.deepEqual(config['version_policy'].specific.versions, [1, 3]);
    assert.equal(config['dynamic_batching'].max_queue_delay_microseconds, 100);
    assert.equal(config['dynamic_batching'].priority_levels, 2);
    assert.equal(config['sequence_batching'].state[0].dims[0], 4);
    assert.equal(config['ensemble_scheduling'].step[0].model_version, -1);
    assert.equal(config['sequence_batching'].state[0].initial_state[0].dims[0], '4', 'Triton misses initial_state dims');
    assert.equal(config['instance_group'][0].secondary_devices[0].device_id, '2');
  });

  it('writes 64-bit map keys as decimal strings', () => {
    assert.deepEqual(Object.keys(config['dynamic_batching'].priority_queue_policy), ['2']);
    assert.equal(config['dynamic_batching'].priority_queue_policy['2'].default_timeout_microseconds, 5);
  });

  it('prints implicit-presence defaults, leaves unset messages out, and writes floats at their float32 spelling', () => {
    assert.equal(config['platform'], '');
    assert.deepEqual(config['output'], []);
    assert.deepEqual(config['cc_model_filenames'], {});
    assert.equal(config['input'][0].format, 'FORMAT_NONE');
    assert.equal(config['input'][0].optional, false);
    assert.equal('optimization' in config, false);
    assert.equal('direct' in config['sequence_batching'], false, 'an unset oneof member is left out');
    assert.deepEqual(config['sequence_batching'].control_input[0].control[0].fp32_false_true, [0, 0.1]);
    assert.deepEqual(config['parameters'], { key: { string_value: 'value' } });
  });

  it('writes statistics counters as exact JSON numbers and text as strings', () => {
    const text = stringifyExact(statisticsJson([{
      name: 'm', version: '1', last_inference: '1700000000000', inference_count: '9007199254740993',
      inference_stats: { success: { count: '3', ns: '18446744073709551615' } },
      batch_stats: [{ batch_size: '8', compute_infer: { count: '1', ns: '2' } }],
      memory_usage: [{ type: 'CPU', id: '0', byte_size: '1024' }],
      response_stats: { count: { success: { count: '1', ns: '5' } } },
    }]));
    assert.equal(text, '{"model_stats":[{"name":"m","version":"1","last_inference":1700000000000,"inference_count":9007199254740993,'
      + '"inference_stats":{"success":{"count":3,"ns":18446744073709551615}},"batch_stats":[{"batch_size":8,"compute_infer":{"count":1,"ns":2}}],'
      + '"memory_usage":[{"type":"CPU","id":0,"byte_size":1024}],"response_stats":{"count":{"success":{"count":1,"ns":5}}}}]}');
  });

  it('never writes a JsonInteger that is not an integer as a bare value', () => {
    assert.equal(stringifyExact({ a: new JsonInteger('1,"b":2') }), '{"a":"1,\\"b\\":2"}');
    assert.equal(stringifyExact([new JsonInteger('-12'), undefined, 'x']), '[-12,null,"x"]');
  });
});
