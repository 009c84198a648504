import type { Datatype } from '../../src/protocol/datatypes';

/** Little builders for ModelInferRequest messages in tests. */
export interface TestInput {
  readonly name: string;
  readonly datatype: Datatype | string;
  readonly shape: readonly number[];
  readonly raw?: Buffer;
  readonly contents?: Record<string, unknown>;
}

export function inferRequest(model: string, inputs: readonly TestInput[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  const useRaw = inputs.some((input) => input.raw !== undefined);
  return {
    model_name: model,
    inputs: inputs.map((input) => ({
      name: input.name,
      datatype: input.datatype,
      shape: input.shape,
      ...(input.contents === undefined ? {} : { contents: input.contents }),
    })),
    raw_input_contents: useRaw ? inputs.map((input) => input.raw ?? Buffer.alloc(0)) : [],
    ...extra,
  };
}

export function int32Buffer(values: readonly number[]): Buffer {
  return Buffer.from(new Int32Array(values).buffer);
}

export function float32Buffer(values: readonly number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

export function readInt32(buffer: Buffer): number[] {
  return Array.from(new Int32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)));
}

export function readFloat32(buffer: Buffer): number[] {
  return Array.from(new Float32Array(buffer.buffer.slice(buffer.byteOffset, buffer.byteOffset + buffer.byteLength)));
}
