import type { Datatype } from '../../protocol/datatypes';

/** Triton datatype <-> onnxruntime element type. BF16 has no onnxruntime-node type. */
const ORT_TYPE_OF: Partial<Record<Datatype, string>> = {
  BOOL: 'bool',
  UINT8: 'uint8',
  UINT16: 'uint16',
  UINT32: 'uint32',
  UINT64: 'uint64',
  INT8: 'int8',
  INT16: 'int16',
  INT32: 'int32',
  INT64: 'int64',
  FP16: 'float16',
  FP32: 'float32',
  FP64: 'float64',
  BYTES: 'string',
};

const DATATYPE_OF = new Map<string, Datatype>(
  Object.entries(ORT_TYPE_OF).map(([datatype, ortType]) => [ortType, datatype as Datatype]),
);

export function onnxTypeOf(datatype: Datatype): string | undefined {
  return ORT_TYPE_OF[datatype];
}

export function datatypeOfOnnxType(ortType: string): Datatype | undefined {
  return DATATYPE_OF.get(ortType);
}
