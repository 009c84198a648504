/**
 * Triton's tensor datatypes: the wire name, the model-config enum name, the element
 * size in bytes (0 for BYTES, whose elements are length-prefixed), and the field of
 * InferTensorContents that carries the type in typed (non-raw) form. FP16 and BF16
 * have no typed field: they travel only as raw bytes.
 */
export type Datatype =
  | 'BOOL' | 'UINT8' | 'UINT16' | 'UINT32' | 'UINT64'
  | 'INT8' | 'INT16' | 'INT32' | 'INT64'
  | 'FP16' | 'FP32' | 'FP64' | 'BF16' | 'BYTES';

export type TypedContentsField =
  | 'bool_contents' | 'int_contents' | 'int64_contents' | 'uint_contents'
  | 'uint64_contents' | 'fp32_contents' | 'fp64_contents' | 'bytes_contents';

export interface DatatypeInfo {
  readonly datatype: Datatype;
  readonly configType: string;
  readonly byteSize: number;
  readonly contentsField: TypedContentsField | null;
}

const TABLE: readonly DatatypeInfo[] = [
  { datatype: 'BOOL', configType: 'TYPE_BOOL', byteSize: 1, contentsField: 'bool_contents' },
  { datatype: 'UINT8', configType: 'TYPE_UINT8', byteSize: 1, contentsField: 'uint_contents' },
  { datatype: 'UINT16', configType: 'TYPE_UINT16', byteSize: 2, contentsField: 'uint_contents' },
  { datatype: 'UINT32', configType: 'TYPE_UINT32', byteSize: 4, contentsField: 'uint_contents' },
  { datatype: 'UINT64', configType: 'TYPE_UINT64', byteSize: 8, contentsField: 'uint64_contents' },
  { datatype: 'INT8', configType: 'TYPE_INT8', byteSize: 1, contentsField: 'int_contents' },
  { datatype: 'INT16', configType: 'TYPE_INT16', byteSize: 2, contentsField: 'int_contents' },
  { datatype: 'INT32', configType: 'TYPE_INT32', byteSize: 4, contentsField: 'int_contents' },
  { datatype: 'INT64', configType: 'TYPE_INT64', byteSize: 8, contentsField: 'int64_contents' },
  { datatype: 'FP16', configType: 'TYPE_FP16', byteSize: 2, contentsField: null },
  { datatype: 'FP32', configType: 'TYPE_FP32', byteSize: 4, contentsField: 'fp32_contents' },
  { datatype: 'FP64', configType: 'TYPE_FP64', byteSize: 8, contentsField: 'fp64_contents' },
  { datatype: 'BF16', configType: 'TYPE_BF16', byteSize: 2, contentsField: null },
  { datatype: 'BYTES', configType: 'TYPE_STRING', byteSize: 0, contentsField: 'bytes_contents' },
];

const BY_WIRE_NAME = new Map<string, DatatypeInfo>(TABLE.map((info) => [info.datatype, info]));
const BY_CONFIG_TYPE = new Map<string, DatatypeInfo>(TABLE.map((info) => [info.configType, info]));

export const ALL_DATATYPES: readonly Datatype[] = TABLE.map((info) => info.datatype);

export function datatypeInfo(datatype: string): DatatypeInfo | undefined {
  return BY_WIRE_NAME.get(datatype);
}

/** The model-config enum name (TYPE_FP32) for a wire datatype, and back. */
export function datatypeFromConfigType(configType: string): DatatypeInfo | undefined {
  return BY_CONFIG_TYPE.get(configType);
}

/** Number of elements of a shape; a shape with no dimensions is a scalar (1 element). */
export function elementCount(shape: readonly number[]): number {
  let count = 1;
  for (const dim of shape) count *= dim;
  return count;
}

/** Triton's way of printing a shape in messages: [-1,16]. */
export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(',')}]`;
}
