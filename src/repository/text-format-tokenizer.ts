import { TextFormatError } from './text-format-error';

interface TokenPosition {
  readonly line: number;
  readonly column: number;
}

/**
 * One lexical token of protobuf text format. `text` is the source spelling (for strings, the
 * first literal with its quotes); a string token's `bytes` hold the unescaped contents of it
 * and of every literal adjacent to it, concatenated.
 */
export type Token =
  | (TokenPosition & { readonly kind: 'identifier' | 'integer' | 'float' | 'symbol' | 'end'; readonly text: string })
  | (TokenPosition & { readonly kind: 'string'; readonly text: string; readonly bytes: Buffer });

const SIMPLE_ESCAPES: Readonly<Record<string, number>> = {
  a: 0x07, b: 0x08, f: 0x0c, n: 0x0a, r: 0x0d, t: 0x09, v: 0x0b,
  '\\': 0x5c, '?': 0x3f, "'": 0x27, '"': 0x22,
};

const isDigit = (c: string): boolean => c >= '0' && c <= '9';
const isOctal = (c: string): boolean => c >= '0' && c <= '7';
const isHex = (c: string): boolean => /^[0-9a-fA-F]$/.test(c);
const isLetter = (c: string): boolean => /^[A-Za-z_]$/.test(c);

/**
 * Lazily splits text format into tokens with one token of lookahead. Comments (`#` to end of
 * line) and whitespace never reach the parser. Lexing errors surface from `peek`/`next`, so the
 * parser can say which field it was reading.
 */
export class TextFormatTokenizer {
  private pos = 0;
  private line = 1;
  private lineStart = 0;
  private lookahead: Token | undefined;

  constructor(private readonly src: string) {}

  peek(): Token {
    this.lookahead ??= this.lex();
    return this.lookahead;
  }

  next(): Token {
    const token = this.peek();
    this.lookahead = undefined;
    return token;
  }

  /** Consumes the next token if it is the symbol `symbol`. */
  trySymbol(symbol: string): boolean {
    const token = this.peek();
    if (token.kind !== 'symbol' || token.text !== symbol) return false;
    this.next();
    return true;
  }

  private char(offset = 0): string {
    return this.src[this.pos + offset] ?? '';
  }

  private advance(): string {
    const c = this.char();
    this.pos += 1;
    return c;
  }

  private here(): TokenPosition {
    return { line: this.line, column: this.pos - this.lineStart + 1 };
  }

  private fail(reason: string, at: TokenPosition = this.here()): never {
    throw new TextFormatError(reason, at.line, at.column);
  }

  private skipBlanks(): void {
    for (;;) {
      const c = this.char();
      if (c === '\n') {
        this.pos += 1;
        this.line += 1;
        this.lineStart = this.pos;
      } else if (c === ' ' || c === '\t' || c === '\r' || c === '\f' || c === '\v') {
        this.pos += 1;
      } else if (c === '#') {
        while (this.char() !== '' && this.char() !== '\n') this.pos += 1;
      } else {
        return;
      }
    }
  }

  private lex(): Token {
    this.skipBlanks();
    const at = this.here();
    const c = this.char();
    if (c === '') return { kind: 'end', text: '', ...at };
    if (isLetter(c)) {
      const start = this.pos;
      while (isLetter(this.char()) || isDigit(this.char())) this.pos += 1;
      return { kind: 'identifier', text: this.src.slice(start, this.pos), ...at };
    }
    if (isDigit(c) || (c === '.' && isDigit(this.char(1)))) return this.lexNumber(at);
    if (c === '"' || c === "'") return this.lexStrings(at);
    if (c.charCodeAt(0) < 0x21 || c.charCodeAt(0) > 0x7e) {
      this.fail(`unexpected character ${JSON.stringify(c)} outside a string literal`);
    }
    this.pos += 1;
    return { kind: 'symbol', text: c, ...at };
  }

  /** Follows protobuf's io::Tokenizer: hex and octal are integers; `.`, an exponent or an `f` suffix make a float. */
  private lexNumber(at: TokenPosition): Token {
    const start = this.pos;
    let isFloat = false;
    if (this.char() === '0' && (this.char(1) === 'x' || this.char(1) === 'X')) {
      this.pos += 2;
      if (!isHex(this.char())) this.fail('"0x" must be followed by hex digits');
      while (isHex(this.char())) this.pos += 1;
    } else if (this.char() === '0' && isDigit(this.char(1))) {
      while (isDigit(this.char())) {
        if (!isOctal(this.char())) this.fail('numbers starting with 0 are octal and may only contain digits 0-7');
        this.pos += 1;
      }
    } else {
      while (isDigit(this.char())) this.pos += 1;
      if (this.char() === '.') {
        isFloat = true;
        this.pos += 1;
        while (isDigit(this.char())) this.pos += 1;
      }
      if (this.char() === 'e' || this.char() === 'E') {
        isFloat = true;
        this.pos += 1;
        if (this.char() === '+' || this.char() === '-') this.pos += 1;
        if (!isDigit(this.char())) this.fail('an exponent must have at least one digit');
        while (isDigit(this.char())) this.pos += 1;
      }
      if (this.char() === 'f' || this.char() === 'F') {
        isFloat = true;
        this.pos += 1;
      }
    }
    if (isLetter(this.char()) || isDigit(this.char()) || this.char() === '.') {
      this.fail(`malformed number "${this.src.slice(start, this.pos + 1)}"`, at);
    }
    return { kind: isFloat ? 'float' : 'integer', text: this.src.slice(start, this.pos), ...at };
  }

  /** One string token from one or more adjacent literals ("a" 'b' → "ab"), as protobuf concatenates them. */
  private lexStrings(at: TokenPosition): Token {
    const start = this.pos;
    const bytes: number[] = [];
    this.lexOneString(bytes);
    const text = this.src.slice(start, this.pos);
    for (;;) {
      this.skipBlanks();
      if (this.char() !== '"' && this.char() !== "'") return { kind: 'string', text, bytes: Buffer.from(bytes), ...at };
      this.lexOneString(bytes);
    }
  }

  private lexOneString(out: number[]): void {
    const at = this.here();
    const quote = this.char();
    this.pos += 1;
    for (;;) {
      const c = this.char();
      if (c === '' || c === '\n') this.fail('unterminated string (a string literal must close on the line it opens)', at);
      this.pos += 1;
      if (c === quote) return;
      if (c === '\\') {
        this.lexEscape(out);
      } else {
        const cp = this.src.codePointAt(this.pos - 1) ?? 0;
        if (cp > 0xffff) this.pos += 1;
        out.push(...Buffer.from(String.fromCodePoint(cp), 'utf8'));
      }
    }
  }

  private lexEscape(out: number[]): void {
    const at = { line: this.line, column: this.pos - this.lineStart };
    const c = this.char();
    this.pos += 1;
    const simple = SIMPLE_ESCAPES[c];
    if (simple !== undefined) {
      out.push(simple);
    } else if (isOctal(c)) {
      let digits = c;
      while (digits.length < 3 && isOctal(this.char())) digits += this.advance();
      const value = parseInt(digits, 8);
      if (value > 0xff) this.fail(`octal escape \\${digits} is larger than a byte`, at);
      out.push(value);
    } else if (c === 'x' || c === 'X') {
      let digits = '';
      while (digits.length < 2 && isHex(this.char())) digits += this.advance();
      if (digits === '') this.fail('\\x must be followed by hex digits', at);
      out.push(parseInt(digits, 16));
    } else if (c === 'u' || c === 'U') {
      out.push(...Buffer.from(String.fromCodePoint(this.lexUnicodeEscape(c, at)), 'utf8'));
    } else {
      this.fail(`invalid escape sequence \\${c === '' ? '' : c} in string`, at);
    }
  }

  /** \uXXXX or \UXXXXXXXX; a high surrogate must be followed by a \u low surrogate. */
  private lexUnicodeEscape(kind: string, at: TokenPosition): number {
    const readHex = (count: number): number => {
      const digits = this.src.slice(this.pos, this.pos + count);
      if (digits.length !== count || ![...digits].every(isHex)) this.fail(`\\${kind} must be followed by ${count} hex digits`, at);
      this.pos += count;
      return parseInt(digits, 16);
    };
    const cp = readHex(kind === 'u' ? 4 : 8);
    if (cp >= 0xd800 && cp <= 0xdbff && this.char() === '\\' && this.char(1) === 'u') {
      this.pos += 2;
      const low = readHex(4);
      if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
    }
    if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) this.fail(`\\${kind} escape is not a valid Unicode code point`, at);
    return cp;
  }
}
