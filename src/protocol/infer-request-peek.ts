import { newCursor, readField, readVarint, readVarintBigInt, WIRE_LENGTH_DELIMITED, WIRE_VARINT, type FieldCursor } from './wire-reader';

/** What the proxy needs from a ModelInferRequest, read without decoding it. */
export interface InferRequestPeek {
  modelName: string;
  modelVersion: string;
  /** sequence_id: a decimal string for int64/uint64 ids, "s:" + the id for string ids; null when absent, 0 or "". */
  sequenceId: string | null;
  sequenceStart: boolean;
  sequenceEnd: boolean;
  /** The first dimension of the first input's shape (the batch size when the model batches); -1 when absent. */
  firstInputDim: number;
}

// ModelInferRequest: model_name = 1, model_version = 2, parameters = 4 (map<string, InferParameter>).
// A map entry: key = 1 (string), value = 2 (InferParameter). InferParameter: bool_param = 1,
// int64_param = 2, string_param = 3, double_param = 4, uint64_param = 5.
const MODEL_NAME = 1;
const MODEL_VERSION = 2;
const PARAMETERS = 4;
const INPUTS = 5;
// InferInputTensor: shape = 3 (repeated int64, packed or not).
const INPUT_SHAPE = 3;

const outer = newCursor();
const entry = newCursor();
const value = newCursor();

/**
 * Reads model name, version and the sequence parameters from a serialized
 * ModelInferRequest (also fits every request whose fields 1 and 2 are the model's name
 * and version: ModelMetadata, ModelConfig, ModelReady, ModelStatistics). Scans the
 * top-level fields once, skipping tensor payloads by their length; allocates only the
 * strings it returns. Returns null when the bytes are not a valid message.
 *
 * Not re-entrant: it reuses module-level cursors (the proxy calls it synchronously).
 */
export function peekInferRequest(buffer: Buffer): InferRequestPeek | null {
  const peek: InferRequestPeek = { modelName: '', modelVersion: '', sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: -1 };
  let offset = 0;
  const limit = buffer.length;
  while (offset < limit) {
    if (!readField(buffer, offset, limit, outer)) return null;
    if (outer.wireType === WIRE_LENGTH_DELIMITED) {
      if (outer.field === MODEL_NAME) peek.modelName = buffer.toString('utf8', outer.start, outer.end);
      else if (outer.field === MODEL_VERSION) peek.modelVersion = buffer.toString('utf8', outer.start, outer.end);
      else if (outer.field === PARAMETERS && !readSequenceParameter(buffer, outer.start, outer.end, peek)) return null;
      else if (outer.field === INPUTS && peek.firstInputDim < 0) peek.firstInputDim = firstDimension(buffer, outer.start, outer.end);
    }
    offset = outer.next;
  }
  return peek;
}

/**
 * Peeks at the beginning of a ModelInferRequest whose full length is `messageLength`
 * while the rest is still arriving: returns the peek as soon as the prefix holds every
 * field before the tensors (fields 1-4) and the first input's metadata (field 5), 'more'
 * when it needs more bytes, null when the bytes are malformed.
 *
 * Relies on the canonical order of protobuf encoders (every encoder of gRPC's supported
 * languages writes fields in field-number order): fields 1-4 come before the tensors.
 * A message that puts them after a tensor is read whole (it arrives complete first).
 */
export function peekInferRequestPrefix(prefix: Buffer, messageLength: number): InferRequestPeek | null | 'more' {
  if (prefix.length >= messageLength) return peekInferRequest(prefix.subarray(0, messageLength));
  let offset = 0;
  while (offset < prefix.length) {
    const tag = readVarint(prefix, offset, prefix.length);
    if (tag === null) return 'more';
    const field = Math.floor(tag[0] / 8);
    if (field > INPUTS) return peekInferRequest(prefix.subarray(0, offset));
    if (!readField(prefix, offset, prefix.length, outer)) return 'more';
    // The first input's metadata (small; its data is in raw_input_contents) gives the batch size.
    if (field === INPUTS) return peekInferRequest(prefix.subarray(0, outer.next));
    offset = outer.next;
  }
  return 'more';
}

/** The first value of an InferInputTensor's shape, or -1. */
function firstDimension(buffer: Buffer, start: number, end: number): number {
  let offset = start;
  while (offset < end) {
    if (!readField(buffer, offset, end, entry)) return -1;
    if (entry.field === INPUT_SHAPE) {
      if (entry.wireType === WIRE_VARINT) return entry.varint;
      if (entry.wireType === WIRE_LENGTH_DELIMITED && entry.end > entry.start) return readVarint(buffer, entry.start, entry.end)?.[0] ?? -1;
    }
    offset = entry.next;
  }
  return -1;
}

/** Reads one parameters map entry; only sequence_* keys are decoded further. */
function readSequenceParameter(buffer: Buffer, start: number, end: number, peek: InferRequestPeek): boolean {
  let keyStart = -1;
  let keyEnd = -1;
  let valueStart = -1;
  let valueEnd = -1;
  let offset = start;
  while (offset < end) {
    if (!readField(buffer, offset, end, entry)) return false;
    if (entry.wireType === WIRE_LENGTH_DELIMITED && entry.field === 1) { keyStart = entry.start; keyEnd = entry.end; }
    if (entry.wireType === WIRE_LENGTH_DELIMITED && entry.field === 2) { valueStart = entry.start; valueEnd = entry.end; }
    offset = entry.next;
  }
  // Cheap filter before allocating the key: every key we want starts with "sequence_".
  if (keyEnd - keyStart < 9 || buffer[keyStart] !== 0x73 /* s */ || buffer[keyStart + 1] !== 0x65 /* e */) return true;
  const key = buffer.toString('utf8', keyStart, keyEnd);
  if (key !== 'sequence_id' && key !== 'sequence_start' && key !== 'sequence_end') return true;
  if (valueStart < 0) return true;
  return readParameterValue(buffer, valueStart, valueEnd, key, peek);
}

function readParameterValue(buffer: Buffer, start: number, end: number, key: string, peek: InferRequestPeek): boolean {
  let offset = start;
  while (offset < end) {
    if (!readField(buffer, offset, end, value)) return false;
    applyParameter(buffer, value, key, peek);
    offset = value.next;
  }
  return true;
}

function applyParameter(buffer: Buffer, field: FieldCursor, key: string, peek: InferRequestPeek): void {
  if (key === 'sequence_id') {
    if (field.wireType === WIRE_VARINT && (field.field === 2 || field.field === 5)) {
      const exact = readVarintBigInt(buffer, field.start, field.end);
      const id = exact === null ? 0n : field.field === 5 ? BigInt.asUintN(64, exact[0]) : exact[0];
      peek.sequenceId = id === 0n ? null : id.toString();
    } else if (field.wireType === WIRE_LENGTH_DELIMITED && field.field === 3) {
      const id = buffer.toString('utf8', field.start, field.end);
      peek.sequenceId = id === '' ? null : `s:${id}`;
    }
    return;
  }
  if (field.wireType === WIRE_VARINT && field.field === 1) {
    if (key === 'sequence_start') peek.sequenceStart = field.varint !== 0;
    else peek.sequenceEnd = field.varint !== 0;
  }
}
