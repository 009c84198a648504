import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import fc from 'fast-check';
import * as protobuf from 'protobufjs';
import { modelConfigType } from '../../src/repository/model-config-schema';
import { corpusFiles } from './corpus/corpus-files';

/**
 * Property-based fuzzing of the config.pbtxt parser: corpus configurations mutated at the
 * character and token level, and soups of random tokens. Whatever the input, the parser
 * returns a value (which then prints and reparses to itself) or throws TextFormatError with a
 * line and column inside the text: never another exception, never a hang. The parser runs in
 * a worker thread, so a run that does not finish within RUN_TIMEOUT_MS is stopped and fails.
 */

const SEED = 0x7e1a6e;
const RUN_TIMEOUT_MS = 2_000;

type Outcome =
  | { kind: 'parsed'; roundTripProblem: string | null }
  | { kind: 'text-format-error'; line: number; column: number; message: string }
  | { kind: 'other-error'; error: string }
  | { kind: 'timeout' };

/** Runs in the worker: the compiled parser, one text per message. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { isDeepStrictEqual } = require('node:util');
const schema = require(workerData.schemaModule);
const { TextFormatError } = require(workerData.errorModule);
parentPort.on('message', ({ id, text }) => {
  let outcome;
  try {
    const config = schema.parseModelConfigText(text);
    let roundTripProblem = null;
    try {
      const printed = schema.printModelConfigText(config);
      if (!isDeepStrictEqual(schema.parseModelConfigText(printed), config)) roundTripProblem = 'the printed config reparses to another value:\\n' + printed;
    } catch (error) {
      roundTripProblem = 'printing or reparsing the parsed config threw: ' + ((error && error.stack) || String(error));
    }
    outcome = { kind: 'parsed', roundTripProblem };
  } catch (error) {
    outcome = error instanceof TextFormatError
      ? { kind: 'text-format-error', line: error.line, column: error.column, message: error.message }
      : { kind: 'other-error', error: (error && error.stack) || String(error) };
  }
  parentPort.postMessage({ id, outcome });
});
`;

/** One worker running the parser; replaced after a run that timed out. */
class ParserSandbox {
  private worker: Worker | null = null;
  private nextId = 0;

  async parse(text: string, timeoutMs = RUN_TIMEOUT_MS): Promise<Outcome> {
    const worker = this.worker ??= new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: {
        schemaModule: join(__dirname, '..', '..', 'src', 'repository', 'model-config-schema.js'),
        errorModule: join(__dirname, '..', '..', 'src', 'repository', 'text-format-error.js'),
      },
    });
    const id = this.nextId += 1;
    return new Promise<Outcome>((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        this.worker = null;
        void worker.terminate().then(() => resolve({ kind: 'timeout' }), reject);
      }, timeoutMs);
      const onMessage = (message: { id: number; outcome: Outcome }): void => {
        if (message.id !== id) return;
        cleanup();
        resolve(message.outcome);
      };
      const onError = (error: Error): void => {
        cleanup();
        this.worker = null;
        reject(error);
      };
      const cleanup = (): void => {
        clearTimeout(timer);
        worker.off('message', onMessage);
        worker.off('error', onError);
      };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, text });
    });
  }

  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
  }
}

/** The outcome is one the parser may have: a value that round-trips, or a TextFormatError positioned inside the text. */
function assertAcceptable(text: string, outcome: Outcome): void {
  switch (outcome.kind) {
    case 'timeout':
      assert.fail(`the parser did not finish within ${RUN_TIMEOUT_MS} ms`);
    case 'other-error':
      assert.fail(`the parser threw something other than TextFormatError: ${outcome.error}`);
    case 'parsed':
      assert.equal(outcome.roundTripProblem, null);
      return;
    case 'text-format-error': {
      const { line, column, message } = outcome;
      const lines = text.split('\n');
      assert.ok(Number.isInteger(line) && line >= 1 && line <= lines.length, `line ${line} outside the text's ${lines.length} lines`);
      const lineLength = (lines[line - 1] as string).length;
      assert.ok(Number.isInteger(column) && column >= 1 && column <= lineLength + 1, `column ${column} outside line ${line} (${lineLength} characters)`);
      assert.ok(message.startsWith(`line ${line}, column ${column}: `) && message.length > `line ${line}, column ${column}: `.length, message);
    }
  }
}

/** Every field and enum value name of the ModelConfig schema: the words a config is made of. */
function schemaWords(): string[] {
  const words = new Set<string>();
  const visit = (namespace: protobuf.NamespaceBase): void => {
    for (const nested of namespace.nestedArray) {
      if (nested instanceof protobuf.Type) for (const field of nested.fieldsArray) words.add(field.name);
      if (nested instanceof protobuf.Enum) for (const value of Object.keys(nested.values)) words.add(value);
      if (nested instanceof protobuf.Namespace || nested instanceof protobuf.Type) visit(nested);
    }
  };
  visit(modelConfigType().root);
  return [...words].sort();
}

/** Tokens that stress the lexer and the value readers. */
const TRICKY_TOKENS = [
  '{', '}', '[', ']', '<', '>', ':', ',', ';', '-', '.', '/', '"', "'", '\\', '#', '\n', '# comment\n', '[x.y]',
  '0', '-0', '1', '-1', '2147483648', '-2147483649', '4294967296', '9007199254740993', '18446744073709551616', '0x7fffffffffffffff',
  '0x', '077', '09', '1.5', '.5', '1e309', '-1e-5', '1f', '1.0f', '1e', 'inf', '-inf', 'nan', 'Infinity', 'true', 'false', 'True', 't', 'f',
  '"x"', "'y'", '""', '"a" "b"', '"\\x41"', '"\\101"', '"\\777"', '"\\u00e9"', '"\\U0001F600"', '"\\ud800"', '"\\ud800\\udc00"', '"\\U00110000"',
  '"\\z"', '"unterminated', '"line\nbreak"', '"\u{1F600}"', '"\u00e9"',
];

/** Unicode that does not belong in a config: astral, combining, control, bidi, lone surrogates, BOM, NUL. */
const strangeText = fc.string({
  unit: fc.oneof(
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
    fc.integer({ min: 0xd800, max: 0xdfff }).map((code) => String.fromCharCode(code)),
    fc.constantFrom('\u0000', '\ufeff', '\u202e', '\u0301', '\u00a0', '\u2028', '\r', '\t', '\v', '\f'),
  ),
  minLength: 1,
  maxLength: 4,
});

const TOKEN_PATTERN = /"(?:[^"\\\n]|\\.)*"?|'(?:[^'\\\n]|\\.)*'?|#[^\n]*|[A-Za-z_][A-Za-z0-9_]*|[0-9.][0-9A-Za-z.+-]*|\s+|[^]/gu;

const tokenize = (text: string): string[] => text.match(TOKEN_PATTERN) ?? [];

type Mutation =
  | { op: 'delete-chars'; at: number; count: number }
  | { op: 'insert-text'; at: number; text: string }
  | { op: 'replace-chars'; at: number; text: string }
  | { op: 'truncate'; at: number }
  | { op: 'duplicate-line'; line: number }
  | { op: 'delete-token'; index: number }
  | { op: 'insert-token'; index: number; token: string }
  | { op: 'replace-token'; index: number; token: string }
  | { op: 'swap-tokens'; index: number; other: number };

function applyMutation(text: string, mutation: Mutation): string {
  const position = (at: number): number => (text.length === 0 ? 0 : at % (text.length + 1));
  switch (mutation.op) {
    case 'delete-chars': {
      const at = position(mutation.at);
      return text.slice(0, at) + text.slice(at + mutation.count);
    }
    case 'insert-text': {
      const at = position(mutation.at);
      return text.slice(0, at) + mutation.text + text.slice(at);
    }
    case 'replace-chars': {
      const at = position(mutation.at);
      return text.slice(0, at) + mutation.text + text.slice(at + mutation.text.length);
    }
    case 'truncate':
      return text.slice(0, position(mutation.at));
    case 'duplicate-line': {
      const lines = text.split('\n');
      const index = mutation.line % lines.length;
      lines.splice(index, 0, lines[index] as string);
      return lines.join('\n');
    }
    default: {
      const tokens = tokenize(text);
      if (tokens.length === 0) return text;
      const index = mutation.index % tokens.length;
      if (mutation.op === 'delete-token') tokens.splice(index, 1);
      else if (mutation.op === 'insert-token') tokens.splice(index, 0, ` ${mutation.token} `);
      else if (mutation.op === 'replace-token') tokens[index] = mutation.token;
      else {
        const other = mutation.other % tokens.length;
        [tokens[index], tokens[other]] = [tokens[other] as string, tokens[index] as string];
      }
      return tokens.join('');
    }
  }
}

describe('config.pbtxt parser: fuzzing', function () {
  this.timeout(30_000);
  const sandbox = new ParserSandbox();
  const corpus = corpusFiles().map(({ text }) => text);
  const token = fc.oneof(fc.constantFrom(...schemaWords()), fc.constantFrom(...TRICKY_TOKENS), strangeText);
  const mutation: fc.Arbitrary<Mutation> = fc.oneof(
    fc.record({ op: fc.constant('delete-chars' as const), at: fc.nat(), count: fc.integer({ min: 1, max: 12 }) }),
    fc.record({ op: fc.constant('insert-text' as const), at: fc.nat(), text: fc.oneof(token, strangeText) }),
    fc.record({ op: fc.constant('replace-chars' as const), at: fc.nat(), text: fc.oneof(token, strangeText) }),
    fc.record({ op: fc.constant('truncate' as const), at: fc.nat() }),
    fc.record({ op: fc.constant('duplicate-line' as const), line: fc.nat() }),
    fc.record({ op: fc.constant('delete-token' as const), index: fc.nat() }),
    fc.record({ op: fc.constant('insert-token' as const), index: fc.nat(), token }),
    fc.record({ op: fc.constant('replace-token' as const), index: fc.nat(), token }),
    fc.record({ op: fc.constant('swap-tokens' as const), index: fc.nat(), other: fc.nat() }),
  );
  const tally = { parsed: 0, refused: 0 };

  before(async () => {
    // Starting the worker and loading the schema is slow the first time; it is not a parser run.
    assert.equal((await sandbox.parse('name: "warm"', 20_000)).kind, 'parsed');
  });
  after(() => sandbox.close());

  const check = async (text: string): Promise<void> => {
    const outcome = await sandbox.parse(text);
    assertAcceptable(text, outcome);
    if (outcome.kind === 'parsed') tally.parsed += 1;
    else tally.refused += 1;
  };

  it('accepts or refuses mutated corpus configs with a positioned TextFormatError', async () => {
    const mutated = fc.tuple(fc.nat({ max: corpus.length - 1 }), fc.array(mutation, { minLength: 1, maxLength: 4 }))
      .map(([index, mutations]) => mutations.reduce(applyMutation, corpus[index] as string));
    await fc.assert(fc.asyncProperty(mutated, check), { seed: SEED, numRuns: 2500 });
  });

  it('accepts or refuses soups of tokens with a positioned TextFormatError', async () => {
    const soup = fc.array(fc.tuple(token, fc.constantFrom(' ', '', '\n', '\t', ' : ', ' { ', ' } ')), { maxLength: 60 })
      .map((parts) => parts.map(([word, separator]) => word + separator).join(''));
    await fc.assert(fc.asyncProperty(soup, check), { seed: SEED + 1, numRuns: 1500 });
  });

  it('handles deep nesting and long inputs without a stack overflow or a hang', async () => {
    for (const text of [
      'optimization {'.repeat(5000),
      `input [ ${'{ name: "x" dims: [ 1 ] }, '.repeat(20000)}{ } ]`,
      `parameters { key: "k" value { string_value: "${'\\x41'.repeat(50000)}" } }`,
      '['.repeat(100000),
      `${'# a long comment\n'.repeat(50000)}name: "x"`,
    ]) await check(text);
  });

  it('exercised both outcomes (the mutations are neither all fatal nor all harmless)', () => {
    const total = tally.parsed + tally.refused;
    assert.ok(total >= 4000, `${total} runs`);
    assert.ok(tally.parsed > total * 0.05, `only ${tally.parsed} of ${total} inputs parsed`);
    assert.ok(tally.refused > total * 0.5, `only ${tally.refused} of ${total} inputs refused`);
  });
});
