import * as protobuf from 'protobufjs';
import { messageSchema, type FieldSchema, type MessageSchema } from './message-schema';
import { defaultValue, getOwn, isDefaultValue, setOwn } from './scalar-values';
import { describeToken, expectationFailed, failAt, peekFor, readScalar } from './text-format-scalar-reader';
import { TextFormatTokenizer, type Token } from './text-format-tokenizer';

export { TextFormatError } from './text-format-error';

/** The `{` or `<` a nested message was opened with, kept to name it if the input ends early. */
interface Opener {
  readonly close: '}' | '>';
  readonly field: string;
  readonly token: Token;
  /** How many messages enclose this one; the top-level message is at depth 0. */
  readonly depth: number;
}

/** protobuf's default recursion limit; deeper input is refused before it can exhaust the stack. */
const MAX_DEPTH = 100;

const CLOSERS: Readonly<Record<string, '}' | '>'>> = { '{': '}', '<': '>' };

/** Per-message bookkeeping: which singular fields and oneofs have been written. */
interface MessageState {
  readonly result: Record<string, unknown>;
  readonly seen: Set<string>;
  readonly oneofs: Map<string, string>;
  readonly depth: number;
}

/**
 * Parses protobuf text format for message `type` into a plain object keyed by .proto field
 * names: enums by name, integers as numbers (64-bit ones only when exact), bytes as Buffer, maps
 * as objects keyed by the key's string form. Proto3 implicit-presence fields holding their
 * default are left out, and repeated fields and maps appear only when non-empty, so the result
 * is the same whichever equivalent spelling the text used. `type` must come from a Root loaded
 * with `keepCase: true`. Throws TextFormatError (with line and column) on any invalid input.
 */
export function parseTextFormat(type: protobuf.Type, text: string): Record<string, unknown> {
  return parseMessage(new TextFormatTokenizer(text), messageSchema(type), undefined);
}

function parseMessage(tokens: TextFormatTokenizer, schema: MessageSchema, opener: Opener | undefined): Record<string, unknown> {
  const state: MessageState = { result: {}, seen: new Set(), oneofs: new Map(), depth: opener?.depth ?? 0 };
  for (;;) {
    const token = tokens.next();
    if (token.kind === 'end') {
      if (opener !== undefined) {
        const { close, field, token: open } = opener;
        failAt(token, `unexpected end of input, expected "${close}" to close field "${field}" (opened at line ${open.line}, column ${open.column})`);
      }
      checkRequired(schema, state, token);
      return state.result;
    }
    if (opener !== undefined && token.kind === 'symbol' && token.text === opener.close) {
      checkRequired(schema, state, token);
      return state.result;
    }
    if (token.kind === 'symbol' && token.text === '[') {
      failAt(token, 'extension and Any fields ("[name] { ... }") are not supported');
    }
    if (token.kind !== 'identifier') failAt(token, `expected a field name in ${schema.fullName}, got ${describeToken(token)}`);
    const field = schema.byName.get(token.text);
    if (field === undefined) failAt(token, `unknown field "${token.text}" in ${schema.fullName}`);
    parseField(tokens, field, token, state);
    if (!tokens.trySymbol(',')) tokens.trySymbol(';');
  }
}

function checkRequired(schema: MessageSchema, state: MessageState, at: Token): void {
  for (const field of schema.fields) {
    if (field.required && !state.seen.has(field.name)) failAt(at, `missing required field "${field.name}" in ${schema.fullName}`);
  }
}

/** One `name: value`, `name { ... }` or `name: [ ... ]` occurrence; the name token is already consumed. */
function parseField(tokens: TextFormatTokenizer, field: FieldSchema, name: Token, state: MessageState): void {
  const isMessage = field.label === 'map' || field.value.kind === 'message';
  if (field.label === 'singular') claimSingular(field, name, state);
  const colon = peekFor(tokens, field.name);
  if (!tokens.trySymbol(':') && !isMessage) expectationFailed(colon, `expected ":" after field "${field.name}"`);

  const readOne = (): void => {
    const value = isMessage ? readMessage(tokens, field, state.depth + 1) : readScalar(tokens, field.value, field.name);
    store(field, value, state);
  };
  const open = peekFor(tokens, field.name);
  if (!(open.kind === 'symbol' && open.text === '[')) {
    readOne();
    return;
  }
  tokens.next();
  if (field.label === 'singular') failAt(open, `field "${field.name}" is not repeated, so it cannot take a list`);
  if (tokens.trySymbol(']')) return;
  for (;;) {
    readOne();
    if (tokens.trySymbol(']')) return;
    const separator = peekFor(tokens, field.name);
    if (!tokens.trySymbol(',')) expectationFailed(separator, `expected "," or "]" in the list for field "${field.name}"`);
  }
}

/** A singular field may be written once, and only one member of a oneof may be written. */
function claimSingular(field: FieldSchema, name: Token, state: MessageState): void {
  if (state.seen.has(field.name)) failAt(name, `field "${field.name}" set twice (it is not repeated)`);
  if (field.oneof !== undefined) {
    const other = state.oneofs.get(field.oneof);
    if (other !== undefined) {
      failAt(name, `field "${field.name}" conflicts with field "${other}": both belong to oneof "${field.oneof}", which holds one value`);
    }
    state.oneofs.set(field.oneof, field.name);
  }
  state.seen.add(field.name);
}

function readMessage(tokens: TextFormatTokenizer, field: FieldSchema, depth: number): Record<string, unknown> {
  const open = tokens.next();
  if (depth > MAX_DEPTH) failAt(open, `field "${field.name}": messages nested more than ${MAX_DEPTH} deep`);
  const close = open.kind === 'symbol' ? CLOSERS[open.text] : undefined;
  if (close === undefined) expectationFailed(open, `field "${field.name}" expects a message ("{ ... }" or "< ... >")`);
  const schema = field.entry ?? (field.value.kind === 'message' ? messageSchema(field.value.messageType) : undefined);
  if (schema === undefined) throw new Error(`field "${field.name}" has no message schema`);
  return parseMessage(tokens, schema, { close, field: field.name, token: open, depth });
}

function store(field: FieldSchema, value: unknown, state: MessageState): void {
  const { result } = state;
  switch (field.label) {
    case 'singular':
      if (field.hasPresence || !isDefaultValue(field.value, value)) setOwn(result, field.name, value);
      return;
    case 'repeated': {
      const list = getOwn(result, field.name);
      if (Array.isArray(list)) list.push(value);
      else setOwn(result, field.name, [value]);
      return;
    }
    case 'map': {
      const entry = value as Record<string, unknown>;
      const keyField = field.entry?.byName.get('key');
      const key = getOwn(entry, 'key') ?? (keyField === undefined ? '' : defaultValue(keyField.value));
      const mapped = getOwn(entry, 'value') ?? defaultValue(field.value);
      let map = getOwn(result, field.name) as Record<string, unknown> | undefined;
      if (map === undefined) {
        map = {};
        setOwn(result, field.name, map);
      }
      // A repeated key replaces the earlier entry, as protobuf's parser does.
      setOwn(map, String(key), mapped);
    }
  }
}
