import { randomFillSync } from 'node:crypto';
import { graph, initializer, model, node, ONNX_FLOAT, ONNX_INT32, tensorValueInfo } from '../test/support/onnx-builder';

/** Columns of the weight table; a lookup of INDICES [LOOKUPS] answers ROWS [LOOKUPS, COLUMNS]. */
export const GATHER_COLUMNS = 4;
export const GATHER_LOOKUPS = 4;

export interface GatherModel {
  /** The model.onnx bytes. */
  readonly onnx: Buffer;
  /** The weight table W [rows, GATHER_COLUMNS], row-major: the expected answers. */
  readonly weights: Float32Array;
  readonly rows: number;
}

/**
 * An embedding lookup written byte by byte: ROWS = Gather(W, INDICES), with W a float
 * initializer of `rows` x 4 random values (4 bytes each: 16 bytes per row) and INDICES
 * INT32 [4]. The weights are random bits with every NaN or infinity turned into a finite
 * number (exponent bit 30 cleared), so every answer is a finite float that JSON carries
 * exactly, and gzip finds almost nothing to shrink. The whole table is used by the graph,
 * so onnxruntime cannot drop it at load.
 */
export function gatherModel(rows: number): GatherModel {
  const weights = new Float32Array(rows * GATHER_COLUMNS);
  const bits = new Uint32Array(weights.buffer);
  randomFillSync(bits);
  for (let index = 0; index < bits.length; index++) {
    const value = bits[index] as number;
    if ((value & 0x7f800000) === 0x7f800000) bits[index] = value & ~0x40000000;
  }
  const raw = Buffer.from(weights.buffer, weights.byteOffset, weights.byteLength);
  const onnx = model(graph({
    nodes: [node('Gather', ['W', 'INDICES'], ['ROWS'])],
    initializers: [initializer('W', ONNX_FLOAT, [rows, GATHER_COLUMNS], raw)],
    inputs: [tensorValueInfo('INDICES', ONNX_INT32, [GATHER_LOOKUPS])],
    outputs: [tensorValueInfo('ROWS', ONNX_FLOAT, [GATHER_LOOKUPS, GATHER_COLUMNS])],
  }));
  return { onnx, weights, rows };
}

/** config.pbtxt of the lookup model named `name`: onnxruntime, no batching, one CPU instance. */
export function gatherModelConfig(name: string): string {
  return `name: "${name}"
backend: "onnxruntime"
max_batch_size: 0
input [ { name: "INDICES" data_type: TYPE_INT32 dims: [ ${GATHER_LOOKUPS} ] } ]
output [ { name: "ROWS" data_type: TYPE_FP32 dims: [ ${GATHER_LOOKUPS}, ${GATHER_COLUMNS} ] } ]
instance_group [ { kind: KIND_CPU count: 1 } ]
`;
}

/** The values ROWS must hold for `indices`, row after row. */
export function expectedRows(model: GatherModel, indices: readonly number[]): number[] {
  return indices.flatMap((row) => Array.from(model.weights.subarray(row * GATHER_COLUMNS, (row + 1) * GATHER_COLUMNS)));
}
