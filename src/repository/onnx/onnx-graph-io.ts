import { open } from 'node:fs/promises';
import type { OnnxIoMetadata } from '../../local-triton/backends/onnxruntime-messages';
import { WIRE_FIXED32, WIRE_FIXED64, WIRE_LENGTH_DELIMITED, WIRE_VARINT } from '../../protocol/wire-reader';
import { OnnxFormatError } from './onnx-format-error';
import { parseValueInfo } from './onnx-value-info';
import { PositionedReader } from './positioned-reader';

// onnx.proto field numbers.
const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const GRAPH_SPARSE_INITIALIZER = 15;
const GRAPH_INPUT = 11;
const GRAPH_OUTPUT = 12;
const TENSOR_NAME = 8;
const SPARSE_TENSOR_VALUES = 1;

/** A graph input or output is a name and a type: more than this is not a ValueInfoProto. */
const MAX_VALUE_INFO_BYTES = 16 * 1024 * 1024;
const MAX_NAME_BYTES = 64 * 1024;

export interface OnnxGraphIo {
  /** The graph's inputs without those that are initializers (weights), in graph order. */
  readonly inputs: OnnxIoMetadata[];
  readonly outputs: OnnxIoMetadata[];
  /**
   * Bytes of the graph's initializers (weights) as stored in the file, sparse ones
   * included; weights kept in external data files are not counted.
   */
  readonly initializerBytes: number;
  /** Bytes read from the file: the walk skips initializer and node contents without reading them. */
  readonly bytesRead: number;
}

interface Field {
  readonly number: number;
  readonly wireType: number;
  /** The payload's bytes in the file (for a varint: the varint itself). */
  readonly start: number;
  readonly end: number;
}

/**
 * The inputs and outputs an ONNX model's graph declares, read from the file without loading
 * it: the ModelProto is walked field by field with positioned reads, and everything but the
 * graph's inputs, outputs and initializer names (node lists, tensor data that can run to
 * gigabytes) is skipped by seeking past it. Names that are also initializers are dropped from
 * the inputs, as onnxruntime does (old exporters list weights as inputs). Throws
 * OnnxFormatError for a truncated or corrupt file; I/O errors propagate as they are.
 */
export async function readOnnxGraphIo(path: string): Promise<OnnxGraphIo> {
  const file = await open(path, 'r');
  try {
    const { size } = await file.stat();
    const reader = new PositionedReader(file, size);
    const inputs: OnnxIoMetadata[] = [];
    const outputs: OnnxIoMetadata[] = [];
    const initializers = new Set<string>();
    const weights = { bytes: 0 };
    let graphs = 0;
    // Protobuf merges repeated occurrences of a message field, so every graph field counts.
    await forEachField(reader, 0, size, 'ModelProto', async (field) => {
      if (field.number !== MODEL_GRAPH) return;
      expectLengthDelimited(field, 'ModelProto.graph');
      graphs += 1;
      await readGraph(reader, field, inputs, outputs, initializers, weights);
    });
    if (graphs === 0) throw new OnnxFormatError('no graph (ModelProto field 7): this is not an ONNX model', 0);
    return { inputs: inputs.filter((input) => !initializers.has(input.name)), outputs, initializerBytes: weights.bytes, bytesRead: reader.bytesRead };
  } finally {
    await file.close();
  }
}

async function readGraph(reader: PositionedReader, graph: Field, inputs: OnnxIoMetadata[], outputs: OnnxIoMetadata[], initializers: Set<string>, weights: { bytes: number }): Promise<void> {
  await forEachField(reader, graph.start, graph.end, 'GraphProto', async (field) => {
    switch (field.number) {
      case GRAPH_INPUT:
      case GRAPH_OUTPUT: {
        expectLengthDelimited(field, field.number === GRAPH_INPUT ? 'GraphProto.input' : 'GraphProto.output');
        const length = field.end - field.start;
        if (length > MAX_VALUE_INFO_BYTES) throw new OnnxFormatError(`a graph input or output of ${length} bytes is implausibly large`, field.start);
        const info = parseValueInfo(await reader.bytes(field.start, length), field.start);
        (field.number === GRAPH_INPUT ? inputs : outputs).push(info);
        return;
      }
      case GRAPH_INITIALIZER: {
        expectLengthDelimited(field, 'GraphProto.initializer');
        weights.bytes += field.end - field.start;
        const name = await tensorName(reader, field);
        if (name !== null) initializers.add(name);
        return;
      }
      case GRAPH_SPARSE_INITIALIZER: {
        expectLengthDelimited(field, 'GraphProto.sparse_initializer');
        weights.bytes += field.end - field.start;
        await forEachField(reader, field.start, field.end, 'SparseTensorProto', async (member) => {
          if (member.number !== SPARSE_TENSOR_VALUES) return;
          expectLengthDelimited(member, 'SparseTensorProto.values');
          const name = await tensorName(reader, member);
          if (name !== null) initializers.add(name);
        });
        return;
      }
      default:
    }
  });
}

/** TensorProto.name (the last one written, as protobuf reads it), skipping the tensor's data. */
async function tensorName(reader: PositionedReader, tensor: Field): Promise<string | null> {
  let name: string | null = null;
  await forEachField(reader, tensor.start, tensor.end, 'TensorProto', async (field) => {
    if (field.number !== TENSOR_NAME) return;
    expectLengthDelimited(field, 'TensorProto.name');
    const length = field.end - field.start;
    if (length > MAX_NAME_BYTES) throw new OnnxFormatError(`a tensor name of ${length} bytes is implausibly long`, field.start);
    name = Buffer.from(await reader.bytes(field.start, length)).toString('utf8');
  });
  return name;
}

/**
 * Walks the fields of the message in [start, end), calling `visit` for each in order; the
 * payload of a field that `visit` does not read is never read from the file.
 */
async function forEachField(reader: PositionedReader, start: number, end: number, message: string, visit: (field: Field) => Promise<void>): Promise<void> {
  let position = start;
  while (position < end) {
    const [tag, afterTag] = await reader.varint(position);
    const number = Math.floor(tag / 8);
    const wireType = tag % 8;
    if (number === 0) throw new OnnxFormatError(`field number 0 in ${message}: the bytes are not protobuf`, position);
    let payloadStart = afterTag;
    let payloadEnd: number;
    switch (wireType) {
      case WIRE_VARINT:
        payloadEnd = (await reader.varint(afterTag))[1];
        break;
      case WIRE_FIXED64:
        payloadEnd = afterTag + 8;
        break;
      case WIRE_FIXED32:
        payloadEnd = afterTag + 4;
        break;
      case WIRE_LENGTH_DELIMITED: {
        const [length, afterLength] = await reader.varint(afterTag);
        payloadStart = afterLength;
        payloadEnd = afterLength + length;
        break;
      }
      default:
        throw new OnnxFormatError(`field ${number} of ${message} has wire type ${wireType}, which ONNX does not use: the bytes are not ONNX`, position);
    }
    if (payloadEnd > end) {
      const where = end === reader.size ? 'the end of the file (truncated?)' : `the end of its ${message} (byte ${end})`;
      throw new OnnxFormatError(`field ${number} of ${message} runs past ${where}`, position);
    }
    await visit({ number, wireType, start: payloadStart, end: payloadEnd });
    position = payloadEnd;
  }
}

function expectLengthDelimited(field: Field, name: string): void {
  if (field.wireType !== WIRE_LENGTH_DELIMITED) {
    throw new OnnxFormatError(`${name} (field ${field.number}) has wire type ${field.wireType}, not a message`, field.start);
  }
}
