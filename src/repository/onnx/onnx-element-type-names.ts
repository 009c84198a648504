/**
 * ONNX TensorProto.DataType numbers -> the element type names onnxruntime-node reports
 * (`InferenceSession.inputMetadata[].type`). Types onnxruntime-node has no name for
 * (bfloat16, complex, 8-bit floats) get the lower-case ONNX name, which matches no Triton
 * datatype except BF16.
 */
const NAMES: readonly string[] = [
  'undefined', // 0 UNDEFINED
  'float32', // 1 FLOAT
  'uint8', // 2
  'int8', // 3
  'uint16', // 4
  'int16', // 5
  'int32', // 6
  'int64', // 7
  'string', // 8
  'bool', // 9
  'float16', // 10
  'float64', // 11 DOUBLE
  'uint32', // 12
  'uint64', // 13
  'complex64', // 14
  'complex128', // 15
  'bfloat16', // 16
  'float8e4m3fn', // 17
  'float8e4m3fnuz', // 18
  'float8e5m2', // 19
  'float8e5m2fnuz', // 20
  'uint4', // 21
  'int4', // 22
  'float4e2m1', // 23
];

export function onnxElementTypeName(elemType: number): string {
  return NAMES[elemType] ?? `elem_type ${elemType}`;
}
