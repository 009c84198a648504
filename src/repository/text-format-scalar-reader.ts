import { TextDecoder } from 'node:util';
import type { ValueKind } from './message-schema';
import { checkedInteger, enumNameOf, floatRangeProblem, isIntegerType, unknownEnumProblem } from './scalar-values';
import { TextFormatError } from './text-format-error';
import type { TextFormatTokenizer, Token } from './text-format-tokenizer';

const utf8 = new TextDecoder('utf-8', { fatal: true });

export function failAt(token: Token, reason: string): never {
  throw new TextFormatError(reason, token.line, token.column);
}

/** A token as an error message shows it: `string "8"`, `integer -3`, `"{"`, `end of input`. */
export function describeToken(token: Token, negative = false): string {
  const sign = negative ? '-' : '';
  switch (token.kind) {
    case 'string': return `string ${token.text.length > 40 ? `${token.text.slice(0, 37)}...` : token.text}`;
    case 'integer': return `integer ${sign}${token.text}`;
    case 'float': return `float ${sign}${token.text}`;
    case 'identifier': return `${sign}${token.text}`;
    case 'symbol': return `"${token.text}"`;
    case 'end': return 'end of input';
  }
}

/** "field "x" expects Y, got Z", or "unexpected end of input: ..." when the input ran out. */
export function expectationFailed(token: Token, expectation: string, negative = false, at: Token = token): never {
  if (token.kind === 'end') failAt(token, `unexpected end of input: ${expectation}`);
  failAt(at, `${expectation}, got ${describeToken(token, negative)}`);
}

/** Peeks the next token; a lexing error there (say, an unterminated string) is reported against `field`. */
export function peekFor(tokens: TextFormatTokenizer, field: string): Token {
  try {
    return tokens.peek();
  } catch (error) {
    if (error instanceof TextFormatError) {
      throw new TextFormatError(`field "${field}": ${error.reason}`, error.line, error.column);
    }
    throw error;
  }
}

function integerLiteral(text: string): bigint {
  if (/^0[0-7]+$/.test(text)) return BigInt(`0o${text.slice(1)}`);
  return BigInt(text);
}

function readFloat(token: Token, negative: boolean): number | undefined {
  let value: number | undefined;
  if (token.kind === 'integer') value = Number(integerLiteral(token.text));
  else if (token.kind === 'float') value = Number(token.text.replace(/[fF]$/, ''));
  else if (token.kind === 'identifier' && /^(inf|infinity)$/i.test(token.text)) value = Infinity;
  else if (token.kind === 'identifier' && /^nan$/i.test(token.text)) value = NaN;
  if (value === undefined) return undefined;
  return negative ? -value : value;
}

function readBool(token: Token, negative: boolean): boolean | undefined {
  if (negative) return undefined;
  if (token.kind === 'identifier') {
    if (token.text === 'true' || token.text === 'True' || token.text === 't') return true;
    if (token.text === 'false' || token.text === 'False' || token.text === 'f') return false;
  }
  if (token.kind === 'integer') {
    const value = integerLiteral(token.text);
    if (value === 0n || value === 1n) return value === 1n;
  }
  return undefined;
}

function expectedValue(kind: ValueKind): string {
  if (kind.kind !== 'scalar') return kind.kind === 'enum' ? 'an enum value name or number' : 'a message';
  if (isIntegerType(kind.scalar)) return 'an integer';
  switch (kind.scalar) {
    case 'bool': return 'a boolean (true, false, t, f, 1 or 0)';
    case 'string': return 'a string';
    case 'bytes': return 'a string of bytes';
    default: return 'a number';
  }
}

/**
 * Reads one scalar or enum value for field `field`: an optional `-`, then one token. Returns
 * the plain-object form: numbers (64-bit ones only when exact), booleans, strings, Buffers for
 * bytes, enum values by their canonical name.
 */
export function readScalar(tokens: TextFormatTokenizer, kind: ValueKind, field: string): unknown {
  const first = peekFor(tokens, field);
  const negative = first.kind === 'symbol' && first.text === '-';
  if (negative) tokens.next();
  const token = negative ? peekFor(tokens, field) : first;
  const expects = (): never => expectationFailed(token, `field "${field}" expects ${expectedValue(kind)}`, negative, first);
  if (token.kind === 'end') expects();
  tokens.next();

  if (kind.kind === 'message') throw new Error(`readScalar called for message field "${field}"`);
  if (kind.kind === 'enum') {
    if (token.kind === 'identifier' && !negative) {
      const number = kind.enumType.values[token.text];
      if (number === undefined) failAt(token, `field "${field}": ${unknownEnumProblem(kind.enumType, token.text)}`);
      return enumNameOf(kind.enumType, number) ?? token.text;
    }
    if (token.kind !== 'integer') return expects();
    const number = Number(integerLiteral(token.text)) * (negative ? -1 : 1);
    const name = enumNameOf(kind.enumType, number);
    if (name === undefined) failAt(first, `field "${field}": ${unknownEnumProblem(kind.enumType, number)}`);
    return name;
  }

  const scalar = kind.scalar;
  if (isIntegerType(scalar)) {
    if (token.kind !== 'integer') return expects();
    const literal = integerLiteral(token.text);
    const value = checkedInteger(scalar, negative ? -literal : literal);
    if (typeof value !== 'number') failAt(first, `field "${field}": ${value.problem}`);
    return value + 0; // + 0 turns -0 into 0
  }
  switch (scalar) {
    case 'double':
    case 'float': {
      const value = readFloat(token, negative) ?? expects();
      const problem = floatRangeProblem(scalar, value);
      if (problem !== undefined) failAt(first, `field "${field}": ${problem}`);
      return value;
    }
    case 'bool':
      return readBool(token, negative) ?? expects();
    case 'string':
      if (token.kind !== 'string' || negative) return expects();
      try {
        return utf8.decode(token.bytes);
      } catch {
        return failAt(token, `field "${field}": string is not valid UTF-8 (use a bytes field for binary data)`);
      }
    case 'bytes':
      if (token.kind !== 'string' || negative) return expects();
      return token.bytes;
  }
}
