import { graph, model, node, ONNX_FLOAT, tensorValueInfo } from './onnx-builder';

/**
 * A slow ONNX model, written byte by byte (onnx.proto field numbers): Y = X·X·...·X, a
 * chain of MATMUL_CHAIN MatMuls over X [batch, n, n]. A [1, n, n] request keeps one
 * instance busy for a time that grows with n^3; a [1, 1, 1] request with value v
 * returns v^(MATMUL_CHAIN + 1). (The same model as test/local-triton/dynamic-batching.test.ts.)
 */
export const MATMUL_CHAIN = 64;

export function matmulChainModel(): Buffer {
  const nodes: Buffer[] = [];
  let previous = 'X';
  for (let index = 0; index < MATMUL_CHAIN; index++) {
    const output = index === MATMUL_CHAIN - 1 ? 'Y' : `t${index}`;
    nodes.push(node('MatMul', [previous, 'X'], [output], `matmul_${index}`));
    previous = output;
  }
  return model(graph({
    nodes,
    inputs: [tensorValueInfo('X', ONNX_FLOAT, ['batch', 'n', 'n'])],
    outputs: [tensorValueInfo('Y', ONNX_FLOAT, ['batch', 'n', 'n'])],
  }));
}

/** config.pbtxt of the matmul chain with `batching` (e.g. a dynamic_batching block), one CPU instance. */
export function matmulChainConfig(name: string, batching: string): string {
  return `name: "${name}"
backend: "onnxruntime"
max_batch_size: 8
input [ { name: "X" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]
output [ { name: "Y" data_type: TYPE_FP32 dims: [ -1, -1 ] } ]
${batching}
instance_group [ { kind: KIND_CPU count: 1 } ]
`;
}
