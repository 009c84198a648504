import assert from 'node:assert/strict';
import {
  modelConfigFromJson, modelConfigToJson, parseModelConfigText, printModelConfigText,
} from '../../../src/repository/model-config-schema';
import { corpusFiles } from './corpus-files';

describe('config.pbtxt corpus', () => {
  const corpus = corpusFiles();

  it('holds at least 10 configurations', () => assert.ok(corpus.length >= 10, `${corpus.length} files`));

  for (const { file, text } of corpus) {
    describe(file, () => {
      it('parses, prints, and reparses to the same config; printing is stable', () => {
        const config = parseModelConfigText(text);
        assert.equal(typeof config['name'], 'string');
        const printed = printModelConfigText(config);
        const reparsed = parseModelConfigText(printed);
        assert.deepEqual(reparsed, config, printed);
        assert.equal(printModelConfigText(reparsed), printed);
      });

      it('survives the JSON round trip (through JSON text, as the config load parameter arrives)', () => {
        const config = parseModelConfigText(text);
        const json = JSON.parse(JSON.stringify(modelConfigToJson(config))) as unknown;
        assert.deepEqual(modelConfigFromJson(json), config);
      });
    });
  }

  it('covers the documented features it is meant to', () => {
    const configs = corpus.map(({ text }) => parseModelConfigText(text));
    const some = (test: (config: Record<string, unknown>) => boolean): boolean => configs.some(test);
    const get = (value: unknown, ...path: string[]): unknown => path.reduce<unknown>((at, key) => (at as Record<string, unknown> | undefined)?.[key], value);
    assert.ok(some((c) => get(c, 'ensemble_scheduling', 'step') !== undefined), 'ensemble');
    assert.ok(some((c) => get(c, 'sequence_batching', 'direct') !== undefined), 'sequence batching, direct');
    assert.ok(some((c) => get(c, 'sequence_batching', 'oldest') !== undefined), 'sequence batching, oldest');
    assert.ok(some((c) => get(c, 'sequence_batching', 'state') !== undefined), 'implicit state');
    assert.ok(some((c) => get(c, 'dynamic_batching', 'priority_queue_policy') !== undefined), 'priority queue policies');
    assert.ok(some((c) => JSON.stringify(get(c, 'instance_group') ?? []).includes('rate_limiter')), 'rate limiter');
    for (const policy of ['latest', 'all', 'specific']) assert.ok(some((c) => get(c, 'version_policy', policy) !== undefined), `version policy ${policy}`);
    assert.ok(some((c) => get(c, 'model_warmup') !== undefined), 'warmup');
    assert.ok(some((c) => get(c, 'optimization', 'execution_accelerators') !== undefined), 'execution accelerators');
    assert.ok(some((c) => get(c, 'response_cache', 'enable') === true), 'response cache');
    assert.ok(some((c) => get(c, 'model_transaction_policy', 'decoupled') === true), 'decoupled');
    assert.ok(some((c) => c['backend'] === 'fil' && get(c, 'parameters', 'model_type') !== undefined), 'backend parameters');
  });
});
