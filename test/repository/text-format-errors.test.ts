import assert from 'node:assert/strict';
import { parseTextFormat, TextFormatError } from '../../src/repository/text-format-parser';
import { everythingType, legacyType } from './fixture-schemas';

/** Asserts that parsing fails at `line`:`column` with a message containing every fragment. */
function assertFails(text: string, line: number, column: number, ...fragments: string[]): void {
  const type = everythingType();
  assert.throws(
    () => parseTextFormat(type, text),
    (error: unknown) => {
      assert.ok(error instanceof TextFormatError, `expected TextFormatError, got ${String(error)}`);
      assert.equal(error.line, line, error.message);
      assert.equal(error.column, column, error.message);
      assert.ok(error.message.startsWith(`line ${line}, column ${column}: `), error.message);
      for (const fragment of fragments) assert.ok(error.message.includes(fragment), `"${error.message}" lacks "${fragment}"`);
      return true;
    },
  );
}

describe('parseTextFormat: errors', () => {
  it('names an unknown field and the message type', () => {
    assertFails('f_int32: 1\n\n  f_nope: 2', 3, 3, 'unknown field "f_nope" in fixture.Everything');
    assertFails('inner {\n  lable: "x"\n}', 2, 3, 'unknown field "lable" in fixture.Inner');
    assertFails('labels { key: "a" vaule: "b" }', 1, 19, 'unknown field "vaule" in map entry of fixture.Everything.labels');
    assertFails('labels { key: "a" key: "b" }', 1, 19, 'field "key" set twice');
  });

  it('rejects a value of the wrong kind, naming the field', () => {
    assertFails('f_int32: "8"', 1, 10, 'field "f_int32" expects an integer, got string "8"');
    assertFails('f_int32: 1.5', 1, 10, 'field "f_int32" expects an integer, got float 1.5');
    assertFails('f_string: 12', 1, 11, 'field "f_string" expects a string, got integer 12');
    assertFails('f_bool: yes', 1, 9, 'field "f_bool" expects a boolean', 'got yes');
    assertFails('f_bool: 2', 1, 9, 'field "f_bool" expects a boolean');
    assertFails('f_double: "1"', 1, 11, 'field "f_double" expects a number');
    assertFails('color: "RED"', 1, 8, 'field "color" expects an enum value');
    assertFails('inner: 3', 1, 8, 'field "inner" expects a message');
    assertFails('dims: [1, "x"]', 1, 11, 'field "dims" expects an integer, got string "x"');
  });

  it('checks integer ranges per type, including negatives for unsigned', () => {
    assertFails('f_int32: 5000000000', 1, 10, 'field "f_int32": value 5000000000 out of range for int32');
    assertFails('f_int32: -2147483649', 1, 10, 'value -2147483649 out of range for int32');
    assertFails('f_uint32: -1', 1, 11, 'field "f_uint32": value -1 out of range for uint32');
    assertFails('f_uint32: 4294967296', 1, 11, 'out of range for uint32');
    assertFails('f_uint64: -5', 1, 11, 'field "f_uint64": value -5 out of range for uint64');
    assertFails('f_int64: 9223372036854775808', 1, 10, 'out of range for int64');
    assertFails('f_uint64: 18446744073709551616', 1, 11, 'out of range for uint64');
  });

  it('rejects finite values beyond the range of float rather than turning them into inf', () => {
    assertFails('f_float: -1e39', 1, 10, 'field "f_float": value -1e+39 out of range for float');
    assert.deepEqual(parseTextFormat(everythingType(), 'f_float: inf f_double: 1e39'), { f_float: Infinity, f_double: 1e39 });
  });

  it('rejects 64-bit integers a JS number cannot hold exactly', () => {
    assertFails('f_int64: 9007199254740993', 1, 10, 'field "f_int64"', '9007199254740993', 'exactly');
    assertFails('f_uint64: 18446744073709551615', 1, 11, 'field "f_uint64"', 'exactly');
    assertFails('by_id { key: 9007199254740992 }', 1, 14, 'field "key"', 'exactly');
  });

  it('lists the expected names for an unknown enum value', () => {
    assertFails('inner {}\ncolor: PURPLE', 2, 8,
      'field "color": unknown enum value "PURPLE" for fixture.Color (expected one of COLOR_UNSPECIFIED, RED, GREEN, BLUE)');
    assertFails('colors: [RED, 7]', 1, 15, 'field "colors": unknown enum value 7 for fixture.Color');
  });

  it('rejects a non-repeated field set twice', () => {
    assertFails('f_string: "a"\nf_string: "b"', 2, 1, 'field "f_string" set twice');
    assertFails('inner {}\ninner { label: "x" }', 2, 1, 'field "inner" set twice');
    assertFails('f_int32: 0 f_int32: 0', 1, 12, 'field "f_int32" set twice');
    assertFails('f_int32: [1]', 1, 10, 'field "f_int32" is not repeated');
  });

  it('rejects two members of one oneof', () => {
    assertFails('choice_name: "a"\n  choice_number: 1', 2, 3, 'field "choice_number" conflicts with field "choice_name"', 'oneof "choice"');
  });

  it('reports unterminated strings and bad escapes against the field', () => {
    assertFails('f_string: "abc', 1, 11, 'field "f_string": unterminated string');
    assertFails('f_string: "abc\n"', 1, 11, 'field "f_string": unterminated string');
    assertFails("names: ['a', 'b]", 1, 14, 'unterminated string');
    assertFails('f_string: "a\\qb"', 1, 13, 'field "f_string": invalid escape sequence \\q');
    assertFails('f_bytes: "\\400"', 1, 11, 'octal escape \\400 is larger than a byte');
    assertFails('f_string: "\\xZZ"', 1, 12, '\\x must be followed by hex digits');
    assertFails('f_string: "\\xff"', 1, 11, 'field "f_string": string is not valid UTF-8');
  });

  it('reports unexpected end of input, naming what was open', () => {
    assertFails('inner {\n  label: "x"\n', 3, 1, 'unexpected end of input', 'expected "}" to close field "inner"', 'line 1, column 7');
    assertFails('inner < label: "x"', 1, 19, 'unexpected end of input', 'expected ">" to close field "inner"');
    assertFails('f_int32:', 1, 9, 'unexpected end of input: field "f_int32" expects an integer');
    assertFails('f_int32', 1, 8, 'unexpected end of input: expected ":" after field "f_int32"');
    assertFails('dims: [1, 2', 1, 12, 'unexpected end of input', 'field "dims"');
    assertFails('inner', 1, 6, 'unexpected end of input: field "inner" expects a message');
  });

  it('rejects malformed syntax', () => {
    assertFails('f_int32 1', 1, 9, 'expected ":" after field "f_int32", got integer 1');
    assertFails('dims: [1 2]', 1, 10, 'expected "," or "]" in the list for field "dims"');
    assertFails('dims: [1, ]', 1, 11, 'field "dims" expects an integer, got "]"');
    assertFails('}', 1, 1, 'expected a field name in fixture.Everything, got "}"');
    assertFails('inner { label: "x" >', 1, 20, 'expected a field name in fixture.Inner, got ">"');
    assertFails('f_int32: 12abc', 1, 10, 'malformed number "12a"');
    assertFails('f_int32: 0x', 1, 12, '"0x" must be followed by hex digits');
    assertFails('f_int32: 09', 1, 11, 'octal');
    assertFails('[ext.field]: 1', 1, 1, 'not supported');
    assertFails('f_int32: 1\n  é: 2', 2, 3, 'unexpected character "é"');
  });

  it('refuses messages nested deeper than protobuf\'s recursion limit of 100', () => {
    const nest = (levels: number): string => `inner { ${'children { '.repeat(levels - 1)}${'} '.repeat(levels)}`;
    assert.deepEqual(Object.keys(parseTextFormat(everythingType(), nest(100))), ['inner']);
    assertFails(nest(101), 1, 9 + 11 * 99 + 9, 'field "children": messages nested more than 100 deep');
  });

  it('checks required fields of proto2 messages', () => {
    assert.throws(() => parseTextFormat(legacyType(), 'count: 1'), /line 1, column 9: missing required field "id" in legacy.Legacy/);
  });
});
