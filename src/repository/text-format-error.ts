/**
 * A text-format input the parser rejects. `line` and `column` are 1-based and point at the
 * token that broke the rule; `reason` is the message without the position prefix.
 */
export class TextFormatError extends Error {
  override readonly name = 'TextFormatError';

  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
  ) {
    super(`line ${line}, column ${column}: ${reason}`);
  }
}
