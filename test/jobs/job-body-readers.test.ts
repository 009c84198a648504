import assert from 'node:assert/strict';
import { describe, it } from 'mocha';
import fc from 'fast-check';
import { TriageError } from '../../src/errors/triage-error';
import type { BodyItem, BodyReader } from '../../src/jobs/body-rows';
import { JsonBodyReader } from '../../src/jobs/json-body-reader';
import { JsonlReader } from '../../src/jobs/jsonl-reader';

/** Feeds `body` to a reader cut at the given offsets; the items as plain values (row text as string). */
function read(reader: BodyReader, body: Buffer, cuts: readonly number[] = []): { kind: string; name?: string; value?: unknown; row?: number; text?: string }[] {
  const items: BodyItem[] = [];
  let start = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    items.push(...reader.push(body.subarray(start, cut)));
    start = cut;
  }
  items.push(...reader.push(body.subarray(start)));
  items.push(...reader.end());
  return items.map((item) => (item.kind === 'row' ? { kind: 'row', row: item.row, text: item.text.toString('utf8') } : { kind: 'field', name: item.name, value: item.value }));
}

function refusal(run: () => unknown): string {
  try {
    run();
  } catch (error) {
    assert.ok(error instanceof TriageError, String(error));
    assert.equal(error.code, 'INVALID_ARGUMENT');
    return error.message;
  }
  throw new Error('no refusal');
}

describe('jobs: reading a job body as it arrives', () => {
  const rowA = { custom_id: 'a', inputs: { x: [[1, 2], [3, 4]], s: 'text with } ] , " \\ and ü' } };
  const rowB = { custom_id: 'b "quoted" {', inputs: { x: { shape: [2], data: [-1.5e3, 2] } } };

  describe('JSON bodies', () => {
    const body = Buffer.from(JSON.stringify({ model: 'simple', metadata: { k: 'v' }, rows: [rowA, rowB], priority: 3 }, null, 1), 'utf8');

    it('gives every member besides rows parsed, and each row as its own JSON text, in body order', () => {
      const items = read(new JsonBodyReader(1 << 20), body);
      assert.deepEqual(items.map((item) => item.kind === 'row' ? JSON.parse(item.text as string) as unknown : [item.name, item.value]), [
        ['model', 'simple'], ['metadata', { k: 'v' }], rowA, rowB, ['priority', 3],
      ]);
      assert.deepEqual(items.filter((item) => item.kind === 'row').map((item) => item.row), [1, 2]);
    });

    it('finds the same items wherever the body is cut into parts (strings, escapes and UTF-8 across parts)', () => {
      const expected = read(new JsonBodyReader(1 << 20), body);
      fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 12 }), (cuts) => {
        assert.deepEqual(read(new JsonBodyReader(1 << 20), body, cuts), expected);
      }), { numRuns: 300 });
      // Byte by byte: every boundary at once.
      assert.deepEqual(read(new JsonBodyReader(1 << 20), body, Array.from({ length: body.length - 1 }, (_, index) => index + 1)), expected);
    });

    it('reads scalars and empty rows arrays, and leaves JSON validity of a row to JSON.parse', () => {
      assert.deepEqual(read(new JsonBodyReader(1024), Buffer.from('{"rows":[],"priority":12}')), [{ kind: 'field', name: 'priority', value: 12 }]);
      assert.deepEqual(read(new JsonBodyReader(1024), Buffer.from('{"rows":[1,true,[1,,2]]}')).map((item) => item.text), ['1', 'true', '[1,,2]']);
      assert.deepEqual(read(new JsonBodyReader(1024), Buffer.from(' {} ')), []);
    });

    it('refuses what is not such an object, naming what is wrong', () => {
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('[1,2]'))), /body must be a JSON object/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from(''))), /the body is empty/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"rows": [{"a": 1}'))), /ends in the middle/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"rows": {"a": 1}}'))), /"rows" must be an array/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"model": "a", "model": "b"}'))), /"model" is given twice/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"model" "a"}'))), /expected ':' after "model"/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"model": nope}'))), /"model" is not valid JSON/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{"rows": [1 2]}'))), /expected ',' or ']' after row 1/);
      assert.match(refusal(() => read(new JsonBodyReader(1024), Buffer.from('{} {}'))), /more after the JSON object/);
    });

    it('refuses a row larger than the limit before holding more of it', () => {
      const reader = new JsonBodyReader(100);
      reader.push(Buffer.from('{"rows": [{"custom_id": "a", "inputs": {"x": ['));
      assert.match(refusal(() => reader.push(Buffer.from('1,'.repeat(100)))), /row 1 is larger than 100 bytes/);
    });
  });

  describe('JSONL bodies', () => {
    const body = Buffer.from(`\ufeff${JSON.stringify(rowA)}\r\n\n   \n${JSON.stringify(rowB)}`, 'utf8');

    it('gives each non-blank line with its line number (BOM, CRLF and a last line without newline accepted)', () => {
      const items = read(new JsonlReader(1 << 20), body);
      assert.deepEqual(items.map((item) => item.row), [1, 4]);
      assert.deepEqual(items.map((item) => JSON.parse(item.text as string) as unknown), [rowA, rowB]);
    });

    it('finds the same lines wherever the body is cut', () => {
      const expected = read(new JsonlReader(1 << 20), body);
      fc.assert(fc.property(fc.uniqueArray(fc.integer({ min: 1, max: body.length - 1 }), { maxLength: 10 }), (cuts) => {
        assert.deepEqual(read(new JsonlReader(1 << 20), body, cuts), expected);
      }), { numRuns: 300 });
    });

    it('refuses a line longer than the limit as soon as it passes it', () => {
      const reader = new JsonlReader(50);
      assert.deepEqual(reader.push(Buffer.from('{"short": 1}\n')).length, 1);
      assert.match(refusal(() => reader.push(Buffer.from('x'.repeat(51)))), /line 2 is longer than 50 bytes/);
    });
  });
});
