import assert from 'node:assert/strict';
import { MessageJsonError, messageFromJson, messageToJson } from '../../src/repository/message-json';
import { everythingType } from './fixture-schemas';

function assertJsonFails(json: unknown, path: string, ...fragments: string[]): void {
  const type = everythingType();
  assert.throws(
    () => messageFromJson(type, json),
    (error: unknown) => {
      assert.ok(error instanceof MessageJsonError, `expected MessageJsonError, got ${String(error)}`);
      assert.equal(error.path, path, error.message);
      assert.ok(path === '' || error.message.startsWith(`${path}: `), error.message);
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      return true;
    },
  );
}

describe('messageFromJson', () => {
  const type = everythingType();
  const read = (json: unknown): Record<string, unknown> => messageFromJson(type, json);

  it('accepts .proto names, lowerCamelCase names and json_name overrides', () => {
    assert.deepEqual(read({ f_int32: 1, fUint32: 2, customName: 'x' }), { f_int32: 1, f_uint32: 2, renamed: 'x' });
    assert.deepEqual(read({ renamed: 'y', innerByName: { a: { label: 'l' } } }), { renamed: 'y', inner_by_name: { a: { label: 'l' } } });
  });

  it('reads integers as numbers or decimal strings, 64-bit ones only when exact', () => {
    assert.deepEqual(read({ f_int64: '-42', f_uint64: 7, f_int32: '5', f_fixed64: 1e3, dims: ['16', -1, '0'] }), {
      f_int64: -42, f_uint64: 7, f_int32: 5, f_fixed64: 1000, dims: [16, -1, 0],
    });
  });

  it('reads floats as numbers, numeric strings or NaN/Infinity/-Infinity', () => {
    assert.deepEqual(read({ weights: [1.5, '2.5', 'NaN', 'Infinity', '-Infinity', '1e-3'] }), {
      weights: [1.5, 2.5, NaN, Infinity, -Infinity, 0.001],
    });
  });

  it('reads enums by name, case-insensitively as Triton does, or by number', () => {
    assert.deepEqual(read({ color: 'green', colors: ['RED', 'Blue', 3, 0] }), {
      color: 'GREEN', colors: ['RED', 'BLUE', 'BLUE', 'COLOR_UNSPECIFIED'],
    });
  });

  it('reads bytes as standard or URL-safe base64, padded or not', () => {
    assert.deepEqual(read({ f_bytes: '/+8=' }), { f_bytes: Buffer.from([0xff, 0xef]) });
    assert.deepEqual(read({ f_bytes: '_-8' }), { f_bytes: Buffer.from([0xff, 0xef]) });
  });

  it('reads maps as objects, converting non-string keys to their canonical string form', () => {
    assert.deepEqual(read({ by_id: { '007': { weight: 1 } }, color_by_number: { '-3': 'red' }, by_flag: { false: 'no' } }), {
      by_id: { '7': { weight: 1 } }, color_by_number: { '-3': 'RED' }, by_flag: { false: 'no' },
    });
  });

  it('treats null as unset and drops implicit-presence defaults, keeping oneof and optional ones', () => {
    assert.deepEqual(read({ f_int32: null, inner: null, f_string: '', color: 'COLOR_UNSPECIFIED', dims: [] }), {});
    assert.deepEqual(read({ choice_number: 0, maybe_count: 0, inner: {} }), { choice_number: 0, maybe_count: 0, inner: {} });
  });

  it('names the JSON path of unknown fields and wrong types', () => {
    assertJsonFails({ inners: [{}, { lable: 'x' }] }, 'inners[1].lable', 'unknown field "lable" in fixture.Inner');
    assertJsonFails({ max_batch: 1 }, 'max_batch', 'unknown field "max_batch" in fixture.Everything');
    assertJsonFails({ inners: [{ weight: 'heavy' }] }, 'inners[0].weight', 'expects an integer', 'string "heavy"');
    assertJsonFails({ f_int32: 1.5 }, 'f_int32', 'expects an integer', 'number 1.5');
    assertJsonFails({ f_bool: 'true' }, 'f_bool', 'expects a boolean');
    assertJsonFails({ f_string: 5 }, 'f_string', 'expects a string, got number 5');
    assertJsonFails({ dims: 5 }, 'dims', 'expected an array for repeated field "dims"');
    assertJsonFails({ dims: [1, null] }, 'dims[1]', 'null is not allowed');
    assertJsonFails({ inner: [] }, 'inner', 'expected a JSON object for fixture.Inner, got an array');
    assertJsonFails([], '', 'expected a JSON object for fixture.Everything');
    assertJsonFails({ f_bytes: 'not base64!' }, 'f_bytes', 'expects base64');
    assertJsonFails({ f_double: 'abc' }, 'f_double', 'expects a number');
  });

  it('rejects bad enum names, listing the expected ones', () => {
    assertJsonFails({ inner: {}, colors: ['RED', 'PURPLE'] }, 'colors[1]',
      'unknown enum value "PURPLE" for fixture.Color (expected one of COLOR_UNSPECIFIED, RED, GREEN, BLUE)');
    assertJsonFails({ color: 9 }, 'color', 'unknown enum value 9');
  });

  it('checks integer and float ranges', () => {
    assertJsonFails({ f_int32: 5000000000 }, 'f_int32', 'value 5000000000 out of range for int32');
    assertJsonFails({ f_uint32: -1 }, 'f_uint32', 'value -1 out of range for uint32');
    assertJsonFails({ f_uint64: '-1' }, 'f_uint64', 'out of range for uint64');
    assertJsonFails({ f_int64: '9223372036854775808' }, 'f_int64', 'out of range for int64');
    assertJsonFails({ f_int64: '9007199254740993' }, 'f_int64', 'exactly');
    assertJsonFails({ by_id: { '-1': {} } }, 'by_id["-1"]', 'out of range for uint64');
    assertJsonFails({ f_float: 1e39 }, 'f_float', 'out of range for float');
  });

  it('refuses messages nested deeper than 100', () => {
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 101; i += 1) deep = { children: [deep] };
    assertJsonFails({ inner: deep }, `inner${'.children[0]'.repeat(100)}`, 'nested more than 100 deep');
  });

  it('rejects a field given twice and two members of a oneof', () => {
    assertJsonFails({ f_int32: 1, fInt32: 2 }, 'fInt32', 'field "f_int32" given twice (as "f_int32" and "fInt32")');
    assertJsonFails({ choice_name: 'a', choiceInner: {} }, 'choiceInner', 'conflicts with field "choice_name"', 'oneof "choice"');
    assertJsonFails({ by_flag: { yes: 'x' } }, 'by_flag["yes"]', 'is not "true" or "false"');
  });
});

describe('messageToJson', () => {
  const type = everythingType();

  it('writes .proto names, 64-bit integers as strings, enums by name, bytes as base64', () => {
    const json = messageToJson(type, {
      f_int64: -5, f_uint64: 9007199254740991, f_int32: 3, dims: [1, 2], color: 'RED', f_bytes: Buffer.from([0xff, 0xef]),
      weights: [NaN, -Infinity], by_id: { '7': { weight: 0 } }, f_string: '', choice_number: 0,
    });
    assert.deepEqual(json, {
      f_int32: 3, f_int64: '-5', f_uint64: '9007199254740991', f_bytes: '/+8=', color: 'RED',
      dims: ['1', '2'], weights: ['NaN', '-Infinity'], by_id: { '7': {} }, choice_number: 0,
    });
  });

  it('rejects objects that do not fit the schema', () => {
    assert.throws(() => messageToJson(type, { inner: { nope: 1 } }), /^TypeError: inner: unknown field "nope" in fixture.Inner/);
    assert.throws(() => messageToJson(type, { f_uint32: -1 }), /f_uint32: value -1 out of range for uint32/);
  });
});
