import { Writer } from 'protobufjs';

/**
 * A slow ONNX model, written byte by byte (onnx.proto field numbers): Y = X·X·...·X, a
 * chain of MATMUL_CHAIN MatMuls over X [batch, n, n]. A [1, n, n] request keeps one
 * instance busy for a time that grows with n^3; a [1, 1, 1] request with value v
 * returns v^(MATMUL_CHAIN + 1). (The same model as test/local-triton/dynamic-batching.test.ts.)
 */
export const MATMUL_CHAIN = 64;
const LENGTH_DELIMITED = 2;

function protoMessage(build: (writer: Writer) => void): Uint8Array {
  const writer = Writer.create();
  build(writer);
  return writer.finish();
}
const putString = (w: Writer, field: number, value: string): Writer => w.uint32((field << 3) | LENGTH_DELIMITED).string(value);
const putMessage = (w: Writer, field: number, value: Uint8Array): Writer => w.uint32((field << 3) | LENGTH_DELIMITED).bytes(value);
const putVarint = (w: Writer, field: number, value: number): Writer => w.uint32(field << 3).int64(value);

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1 (FLOAT=1), shape=2: {dim=1: {dim_param=2}}}}} */
const floatTensorInfo = (name: string, dims: readonly string[]): Uint8Array => protoMessage((w) => {
  putString(w, 1, name);
  putMessage(w, 2, protoMessage((type) => putMessage(type, 1, protoMessage((tensor) => {
    putVarint(tensor, 1, 1);
    putMessage(tensor, 2, protoMessage((shape) => { for (const dim of dims) putMessage(shape, 1, protoMessage((d) => putString(d, 2, dim))); }));
  }))));
});

/** ModelProto{ir_version=1, producer_name=2, graph=7: GraphProto{node=1, name=2, input=11, output=12}, opset_import=8} */
export function matmulChainModel(): Buffer {
  return Buffer.from(protoMessage((model) => {
    putVarint(model, 1, 8);
    putString(model, 2, 'triage-test');
    putMessage(model, 7, protoMessage((graph) => {
      let previous = 'X';
      for (let index = 0; index < MATMUL_CHAIN; index++) {
        const output = index === MATMUL_CHAIN - 1 ? 'Y' : `t${index}`;
        // NodeProto{input=1, output=2, name=3, op_type=4}
        putMessage(graph, 1, protoMessage((node) => {
          putString(node, 1, previous);
          putString(node, 1, 'X');
          putString(node, 2, output);
          putString(node, 3, `matmul_${index}`);
          putString(node, 4, 'MatMul');
        }));
        previous = output;
      }
      putString(graph, 2, 'matmul_chain');
      putMessage(graph, 11, floatTensorInfo('X', ['batch', 'n', 'n']));
      putMessage(graph, 12, floatTensorInfo('Y', ['batch', 'n', 'n']));
    }));
    putMessage(model, 8, protoMessage((opset) => { putString(opset, 1, ''); putVarint(opset, 2, 13); }));
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
