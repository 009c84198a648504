import type { OnnxIoMetadata } from '../../local-triton/backends/onnxruntime-messages';
import { newCursor, readField, readVarintBigInt, WIRE_LENGTH_DELIMITED, WIRE_VARINT, type FieldCursor } from '../../protocol/wire-reader';
import { onnxElementTypeName } from './onnx-element-type-names';
import { OnnxFormatError } from './onnx-format-error';

// onnx.proto field numbers.
const VALUE_INFO_NAME = 1;
const VALUE_INFO_TYPE = 2;
const TYPE_TENSOR = 1;
const TENSOR_ELEM_TYPE = 1;
const TENSOR_SHAPE = 2;
const SHAPE_DIM = 1;
const DIM_VALUE = 1;
const DIM_PARAM = 2;

const MAX_SAFE = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * Decodes one ValueInfoProto (a graph input or output) held in memory. `offset` is where
 * `bytes` starts in the file, for error positions. A value that is not a tensor (sequence,
 * map, optional, sparse) has type and dims null, as onnxruntime-node reports it; a tensor
 * without a shape has dims null (rank unknown); a dim without a fixed value is null.
 */
export function parseValueInfo(bytes: Uint8Array, offset: number): OnnxIoMetadata {
  const info: OnnxIoMetadata = { name: '', type: null, dims: null };
  forEachField(bytes, 0, bytes.length, offset, (cursor) => {
    if (cursor.field === VALUE_INFO_NAME && cursor.wireType === WIRE_LENGTH_DELIMITED) {
      info.name = Buffer.from(bytes.subarray(cursor.start, cursor.end)).toString('utf8');
    } else if (cursor.field === VALUE_INFO_TYPE && cursor.wireType === WIRE_LENGTH_DELIMITED) {
      forEachField(bytes, cursor.start, cursor.end, offset, (type) => {
        if (type.field === TYPE_TENSOR && type.wireType === WIRE_LENGTH_DELIMITED) readTensorType(bytes, type, offset, info);
      });
    }
  });
  return info;
}

function readTensorType(bytes: Uint8Array, tensor: FieldCursor, offset: number, info: OnnxIoMetadata): void {
  let elemType = 0;
  forEachField(bytes, tensor.start, tensor.end, offset, (field) => {
    if (field.field === TENSOR_ELEM_TYPE && field.wireType === WIRE_VARINT) elemType = field.varint;
    else if (field.field === TENSOR_SHAPE && field.wireType === WIRE_LENGTH_DELIMITED) info.dims = readShape(bytes, field, offset);
  });
  info.type = onnxElementTypeName(elemType);
}

function readShape(bytes: Uint8Array, shape: FieldCursor, offset: number): (number | null)[] {
  const dims: (number | null)[] = [];
  forEachField(bytes, shape.start, shape.end, offset, (dim) => {
    if (dim.field !== SHAPE_DIM || dim.wireType !== WIRE_LENGTH_DELIMITED) return;
    let value: number | null = null;
    forEachField(bytes, dim.start, dim.end, offset, (member) => {
      if (member.field === DIM_VALUE && member.wireType === WIRE_VARINT) {
        // dim_value is an int64: read it exactly, so a negative or huge value is not mistaken for a size.
        const exact = readVarintBigInt(bytes, member.start, member.end);
        value = exact !== null && exact[0] >= 0n && exact[0] <= MAX_SAFE ? Number(exact[0]) : null;
      } else if (member.field === DIM_PARAM) {
        // A symbolic size; the last member of the oneof written wins, as in protobuf.
        value = null;
      }
    });
    dims.push(value);
  });
  return dims;
}

/** Calls `visit` for every field in [start, end); throws OnnxFormatError where the bytes stop being protobuf. */
function forEachField(bytes: Uint8Array, start: number, end: number, offset: number, visit: (cursor: FieldCursor) => void): void {
  const cursor = newCursor();
  let position = start;
  while (position < end) {
    if (!readField(bytes, position, end, cursor) || cursor.field === 0) {
      throw new OnnxFormatError('malformed field in a graph input or output (ValueInfoProto)', offset + position);
    }
    visit(cursor);
    position = cursor.next;
  }
}
