import assert from 'node:assert/strict';
import { messageFromJson, messageToJson } from '../../src/repository/message-json';
import { parseTextFormat } from '../../src/repository/text-format-parser';
import { printTextFormat } from '../../src/repository/text-format-printer';
import { everythingType, legacyType } from './fixture-schemas';
import { randomMessage, seededRandom } from './random-message';

describe('printTextFormat', () => {
  const type = everythingType();

  it('prints canonical text: declaration order, 2-space blocks, lists for repeated scalars, sorted map entries', () => {
    const text = printTextFormat(type, {
      labels: { b: '2', a: '1' },
      dims: [1, -2],
      inner: { weight: 3, label: 'x', children: [{}, { label: 'c' }] },
      f_string: 'q"\\\n\t\u0001é',
      f_double: -0,
      f_bytes: Buffer.from([0, 0x41, 0xff, 0x22]),
      color: 'BLUE',
      names: ['a', 'b'],
      by_id: { '10': { weight: 1 }, '9': {} },
      f_uint64: 0,
      choice_number: 0,
      weights: [NaN, Infinity, -Infinity, 1e-7],
    });
    assert.equal(text, [
      'f_double: -0',
      'f_string: "q\\"\\\\\\n\\t\\001é"',
      'f_bytes: "\\000A\\377\\""',
      'color: BLUE',
      'inner {',
      '  label: "x"',
      '  weight: 3',
      '  children {}',
      '  children {',
      '    label: "c"',
      '  }',
      '}',
      'dims: [ 1, -2 ]',
      'names: [ "a", "b" ]',
      'weights: [ nan, inf, -inf, 1e-7 ]',
      'labels {',
      '  key: "a"',
      '  value: "1"',
      '}',
      'labels {',
      '  key: "b"',
      '  value: "2"',
      '}',
      'by_id {',
      '  key: 9',
      '  value {}',
      '}',
      'by_id {',
      '  key: 10',
      '  value {',
      '    weight: 1',
      '  }',
      '}',
      'choice_number: 0',
      '',
    ].join('\n'));
  });

  it('omits implicit-presence defaults and empty lists, but prints set proto2 and optional fields', () => {
    assert.equal(printTextFormat(type, { f_int32: 0, f_string: '', color: 'COLOR_UNSPECIFIED', dims: [], labels: {} }), '');
    assert.equal(printTextFormat(type, { maybe_count: 0 }), 'maybe_count: 0\n');
    assert.equal(printTextFormat(legacyType(), { id: '', enabled: false }), 'id: ""\nenabled: false\n');
  });

  it('rejects objects that do not fit the schema, naming the path', () => {
    assert.throws(() => printTextFormat(type, { nope: 1 }), /unknown field "nope" in fixture.Everything/);
    assert.throws(() => printTextFormat(type, { inner: { weight: 'x' } }), /^TypeError: inner.weight: expected an integer/);
    assert.throws(() => printTextFormat(type, { f_int32: 2 ** 31 }), /f_int32: value 2147483648 out of range for int32/);
    assert.throws(() => printTextFormat(type, { color: 'PURPLE' }), /color: PURPLE is not a value of enum fixture.Color/);
    assert.throws(() => printTextFormat(type, { choice_name: 'a', choice_number: 1 }), /both set in oneof "choice"/);
    assert.throws(() => printTextFormat(type, { by_id: { x: {} } }), /map key "x" is not a uint64/);
  });

  it('round-trips: parse(print(x)) deep-equals x for random messages of the fixture schema', () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const x = randomMessage(type, seededRandom(seed), { negativeZero: true, maxDepth: 2 });
      const text = printTextFormat(type, x);
      assert.deepEqual(parseTextFormat(type, text), x, `seed ${seed}:\n${text}`);
      assert.equal(printTextFormat(type, parseTextFormat(type, text)), text, `seed ${seed}: printing is not stable`);
    }
  });

  it('round-trips through messageToJson and messageFromJson, also via JSON text', () => {
    for (let seed = 1; seed <= 400; seed += 1) {
      const x = randomMessage(type, seededRandom(seed), { negativeZero: false, maxDepth: 2 });
      const json = messageToJson(type, x);
      assert.deepEqual(messageFromJson(type, json), x, `seed ${seed}`);
      assert.deepEqual(messageFromJson(type, JSON.parse(JSON.stringify(json))), x, `seed ${seed} via JSON text`);
    }
  });
});
