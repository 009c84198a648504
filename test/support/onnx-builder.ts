/**
 * ONNX models written byte by byte for tests (onnx.proto field numbers), so a test can make
 * exactly the graph it needs: initializers listed as inputs, symbolic and unknown dims,
 * non-tensor values, and initializers too large to ever read.
 */

/** TensorProto.DataType numbers used by the tests. */
export const ONNX_FLOAT = 1;
export const ONNX_INT32 = 6;
export const ONNX_INT64 = 7;

const LENGTH_DELIMITED = 2;

/** A protobuf varint of any non-negative integer up to 2^53. */
export function varint(value: number): Buffer {
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Buffer.from(bytes);
}

export const varintField = (field: number, value: number): Buffer => Buffer.concat([varint(field << 3), varint(value)]);
export const bytesField = (field: number, payload: Uint8Array | string): Buffer => {
  const bytes = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : Buffer.from(payload);
  return Buffer.concat([varint((field << 3) | LENGTH_DELIMITED), varint(bytes.length), bytes]);
};
/** The tag and length of a length-delimited field whose payload is written separately. */
export const fieldHeader = (field: number, length: number): Buffer => Buffer.concat([varint((field << 3) | LENGTH_DELIMITED), varint(length)]);

/** A dim: a fixed size, a symbolic name, or null for one that sets neither. */
export type Dim = number | string | null;

/** ValueInfoProto{name=1, type=2: TypeProto{tensor_type=1: {elem_type=1, shape=2: {dim=1: {dim_value=1 | dim_param=2}}}}}; dims null: no shape. */
export function tensorValueInfo(name: string, elemType: number, dims: readonly Dim[] | null): Buffer {
  const tensor: Buffer[] = [varintField(1, elemType)];
  if (dims !== null) {
    const shape = dims.map((dim) => bytesField(1, dim === null ? Buffer.alloc(0) : typeof dim === 'number' ? varintField(1, dim) : bytesField(2, dim)));
    tensor.push(bytesField(2, Buffer.concat(shape)));
  }
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(1, Buffer.concat(tensor)))]);
}

/** A ValueInfoProto of a sequence of float tensors (TypeProto.sequence_type = 4). */
export function sequenceValueInfo(name: string): Buffer {
  const elem = bytesField(1, bytesField(1, varintField(1, ONNX_FLOAT)));
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(4, elem))]);
}

/** TensorProto{dims=1, data_type=2, raw_data=9, name=8}: the name written after the data. */
export function initializer(name: string, elemType: number, dims: readonly number[], raw: Uint8Array): Buffer {
  return Buffer.concat([...dims.map((dim) => varintField(1, dim)), varintField(2, elemType), bytesField(9, raw), bytesField(8, name)]);
}

/** NodeProto{input=1, output=2, name=3, op_type=4}. */
export function node(opType: string, inputs: readonly string[], outputs: readonly string[], name = `${opType}_0`): Buffer {
  return Buffer.concat([...inputs.map((input) => bytesField(1, input)), ...outputs.map((output) => bytesField(2, output)), bytesField(3, name), bytesField(4, opType)]);
}

export interface GraphParts {
  readonly nodes?: readonly Buffer[];
  readonly initializers?: readonly Buffer[];
  /** ValueInfoProto bytes. */
  readonly inputs: readonly Buffer[];
  readonly outputs: readonly Buffer[];
}

/** GraphProto{node=1, name=2, initializer=5, input=11, output=12}. */
export function graph(parts: GraphParts): Buffer {
  return Buffer.concat([
    ...(parts.nodes ?? []).map((entry) => bytesField(1, entry)),
    bytesField(2, 'test_graph'),
    ...(parts.initializers ?? []).map((entry) => bytesField(5, entry)),
    ...parts.inputs.map((entry) => bytesField(11, entry)),
    ...parts.outputs.map((entry) => bytesField(12, entry)),
  ]);
}

/** ModelProto{ir_version=1, producer_name=2, graph=7, opset_import=8 (opset 13)}. */
export function model(graphBytes: Buffer): Buffer {
  return Buffer.concat([
    varintField(1, 8),
    bytesField(2, 'triage-test'),
    bytesField(7, graphBytes),
    bytesField(8, Buffer.concat([bytesField(1, ''), varintField(2, 13)])),
  ]);
}

/**
 * Y = X + W, where the weight W [4] is an initializer that old exporters also list among the
 * graph inputs; onnxruntime does not count it as an input. X and Y are [batch, 4] float.
 */
export function addWeightModel(): Buffer {
  const weights = Buffer.from(new Float32Array([1, 2, 3, 4]).buffer);
  return model(graph({
    nodes: [node('Add', ['X', 'W'], ['Y'])],
    initializers: [initializer('W', ONNX_FLOAT, [4], weights)],
    inputs: [tensorValueInfo('X', ONNX_FLOAT, ['batch', 4]), tensorValueInfo('W', ONNX_FLOAT, [4])],
    outputs: [tensorValueInfo('Y', ONNX_FLOAT, ['batch', 4])],
  }));
}
