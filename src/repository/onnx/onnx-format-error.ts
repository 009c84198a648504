/**
 * A model.onnx that is not a well-formed ModelProto: truncated, corrupt, or not ONNX at all.
 * `offset` is the byte of the file where reading went wrong.
 */
export class OnnxFormatError extends Error {
  override readonly name = 'OnnxFormatError';

  constructor(
    readonly reason: string,
    readonly offset: number,
  ) {
    super(`byte ${offset}: ${reason}`);
  }
}
