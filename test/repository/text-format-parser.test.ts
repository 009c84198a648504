import assert from 'node:assert/strict';
import { parseTextFormat } from '../../src/repository/text-format-parser';
import { everythingType, legacyType } from './fixture-schemas';

describe('parseTextFormat: syntax', () => {
  const type = everythingType();
  const parse = (text: string): Record<string, unknown> => parseTextFormat(type, text);

  it('reads scalars of every type as plain values', () => {
    const parsed = parse(`
      f_double: 1.5 f_float: 2.25 f_int32: -7 f_uint32: 4000000000 f_sint32: -3
      f_fixed32: 9 f_sfixed32: -9 f_int64: -9007199254740991 f_uint64: 9007199254740991
      f_sint64: -5 f_fixed64: 5 f_sfixed64: -6 f_bool: true f_string: "hi" f_bytes: "\\x00\\xff"
      color: GREEN`);
    assert.deepEqual(parsed, {
      f_double: 1.5, f_float: 2.25, f_int32: -7, f_uint32: 4000000000, f_sint32: -3,
      f_fixed32: 9, f_sfixed32: -9, f_int64: -9007199254740991, f_uint64: 9007199254740991,
      f_sint64: -5, f_fixed64: 5, f_sfixed64: -6, f_bool: true, f_string: 'hi',
      f_bytes: Buffer.from([0, 255]), color: 'GREEN',
    });
  });

  it('skips # comments, blank lines and optional , or ; separators', () => {
    const parsed = parse('# header\nf_int32: 1, # trailing\n\nf_string: "a#b";\n# f_bool: true\nf_uint32: 2 ;');
    assert.deepEqual(parsed, { f_int32: 1, f_string: 'a#b', f_uint32: 2 });
  });

  it('accepts { }, : { } and < > around nested messages', () => {
    const expected = { label: 'x', weight: 3 };
    assert.deepEqual(parse('inner { label: "x" weight: 3 }'), { inner: expected });
    assert.deepEqual(parse('inner: { label: "x" weight: 3 }'), { inner: expected });
    assert.deepEqual(parse('inner < label: "x" weight: 3 >'), { inner: expected });
    assert.deepEqual(parse('inner: < label: "x", weight: 3, >'), { inner: expected });
    assert.deepEqual(parse('inner {}'), { inner: {} });
  });

  it('accepts repeated fields written repeatedly, as lists, or mixed', () => {
    assert.deepEqual(parse('dims: 1 dims: 2 dims: 3'), { dims: [1, 2, 3] });
    assert.deepEqual(parse('dims: [ 1, 2 ] dims: 3 dims: [4]'), { dims: [1, 2, 3, 4] });
    assert.deepEqual(parse('names: ["a", \'b\'] colors: [RED, 3] flags: [t, 0, True]'), {
      names: ['a', 'b'], colors: ['RED', 'BLUE'], flags: [true, false, true],
    });
  });

  it('accepts repeated messages as blocks and as lists with or without a colon', () => {
    const inners = [{ label: 'a' }, { label: 'b' }];
    assert.deepEqual(parse('inners { label: "a" } inners { label: "b" }'), { inners });
    assert.deepEqual(parse('inners [ { label: "a" }, < label: "b" > ]'), { inners });
    assert.deepEqual(parse('inners: [ { label: "a" }, { label: "b" } ]'), { inners });
    assert.deepEqual(parse('inner { children [ { label: "c" children { weight: 1 } } ] }'), {
      inner: { children: [{ label: 'c', children: [{ weight: 1 }] }] },
    });
  });

  it('treats [ ] as an empty list and leaves the field out', () => {
    assert.deepEqual(parse('dims: [ ] inners [] names: []'), {});
  });

  it('reads double- and single-quoted strings with every C escape, concatenating adjacent literals', () => {
    const parsed = parse(String.raw`f_string: "a\n\t\\\'\"" 'b\"\'' "\101\x42\103" "\r\a\b\f\v\?" "\u00e9\U0001F600" "é"`);
    assert.equal(parsed['f_string'], 'a\n\t\\\'"b"\'ABC\r\x07\b\f\v?é😀é');
    assert.deepEqual(parse(String.raw`f_bytes: "\0\1\12\377" 'z'`), { f_bytes: Buffer.from([0, 1, 10, 255, 0x7a]) });
  });

  it('reads integers in decimal, hex, octal and negative forms', () => {
    assert.deepEqual(parse('f_int32: 0x1F f_int64: -0x10 f_uint32: 017 f_sint32: -0 dims: [0, -1, 0XfF]'), {
      f_int32: 31, f_int64: -16, f_uint32: 15, dims: [0, -1, 255],
    });
  });

  it('reads floats: decimals, exponents, leading dot, f suffix, inf and nan', () => {
    const parsed = parse('weights: [1.5, 1e-3, .5, 2., 3f, 1.5F, 2E+2, inf, -inf, -Infinity, nan, -7, 0x10]');
    assert.deepEqual(parsed['weights'], [1.5, 0.001, 0.5, 2, 3, 1.5, 200, Infinity, -Infinity, -Infinity, NaN, -7, 16]);
    assert.deepEqual(parse('f_double: -0.0'), { f_double: -0 });
  });

  it('reads booleans as true/false/True/False/t/f/1/0', () => {
    assert.deepEqual(parse('flags: [true, false, True, False, t, f, 1, 0]'), {
      flags: [true, false, true, false, true, false, true, false],
    });
  });

  it('reads enums by name or by number, giving the name', () => {
    assert.deepEqual(parse('color: 2 colors: [BLUE, 1]'), { color: 'GREEN', colors: ['BLUE', 'RED'] });
  });

  it('reads maps written as repeated key/value entries, keyed by the key string', () => {
    const parsed = parse(`
      labels { key: "k1" value: "v1" }
      labels: { key: "k2", value: "v2" }
      labels [ { key: "k3" value: "v3" } ]
      by_id { key: 9007199254740991 value { label: "big" } }
      by_id < key: 0x7 value < weight: 2 > >
      color_by_number { key: -1 value: RED }
      by_flag { key: true value: "yes" }
      inner_by_name { key: "empty" }
      labels { key: "k1" value: "replaced" }`);
    assert.deepEqual(parsed, {
      labels: { k1: 'replaced', k2: 'v2', k3: 'v3' },
      by_id: { '9007199254740991': { label: 'big' }, '7': { weight: 2 } },
      color_by_number: { '-1': 'RED' },
      by_flag: { true: 'yes' },
      inner_by_name: { empty: {} },
    });
  });

  it('keeps map keys such as __proto__ as plain data', () => {
    const parsed = parse('labels { key: "__proto__" value: "x" }');
    const labels = parsed['labels'] as Record<string, unknown>;
    assert.equal(Object.getPrototypeOf(labels), Object.prototype);
    assert.deepEqual(Object.keys(labels), ['__proto__']);
  });

  it('reads one member of a oneof, keeping it even when it holds the default', () => {
    assert.deepEqual(parse('choice_number: 0'), { choice_number: 0 });
    assert.deepEqual(parse('choice_inner {}'), { choice_inner: {} });
  });

  it('leaves out proto3 implicit-presence defaults but keeps optional and message fields', () => {
    assert.deepEqual(parse('f_int32: 0 f_string: "" f_bool: false color: COLOR_UNSPECIFIED f_bytes: ""'), {});
    assert.deepEqual(parse('maybe_count: 0 inner {}'), { maybe_count: 0, inner: {} });
  });

  it('keeps proto2 fields that are set, even to their default', () => {
    assert.deepEqual(parseTextFormat(legacyType(), 'id: "" count: 0 enabled: false'), { id: '', count: 0, enabled: false });
  });

  it('accepts an empty document', () => {
    assert.deepEqual(parse(''), {});
    assert.deepEqual(parse('  # only a comment\n'), {});
  });
});
