import { TriageError } from '../../errors/triage-error';
import { deserializeBytesElements } from '../../protocol/bytes-tensor';
import { datatypeInfo, elementCount, formatShape, type DatatypeInfo } from '../../protocol/datatypes';
import type { InferOutputTensor, ModelInferResponse } from '../../protocol/inference-messages';
import { tensorToJson, type JsonTensorValue } from '../../protocol/json-tensor';
import { typedContentsToRaw } from '../../protocol/typed-contents';
import type { BinaryOutputChoice } from './infer-request-json';
import { inferParametersToJson, type JsonParameterValue } from './infer-parameters-json';

/** An inference answer on the REST port: the body's parts, written back to back. */
export interface RestInferReply {
  readonly contentType: string;
  /** The JSON header's byte length when binary outputs follow it (Inference-Header-Content-Length). */
  readonly headerLength: number | null;
  readonly parts: readonly Buffer[];
  readonly byteLength: number;
}

interface OutputJson {
  name: string;
  datatype: string;
  shape: number[];
  parameters?: Record<string, JsonParameterValue>;
  data?: JsonTensorValue;
}

/**
 * The KServe v2 answer for a ModelInferResponse: JSON, with each output's values as a
 * flat row-major `data` array, or (Triton's binary tensor extension) a JSON header
 * followed by the outputs the client asked for as binary, each with a
 * `binary_data_size` parameter and no `data`.
 */
export function inferResponseToRest(response: ModelInferResponse, binaryOutputs: BinaryOutputChoice): RestInferReply {
  const binaryParts: Buffer[] = [];
  const outputs = response.outputs.map((output, index): OutputJson => {
    const info = datatypeInfo(output.datatype);
    if (info === undefined) throw instanceFault(`output '${output.name}' has unknown datatype '${output.datatype}'`);
    const shape = output.shape.map(Number);
    const raw = outputBytes(response, output, index, info);
    const parameters = inferParametersToJson(output.parameters);
    if (binaryOutputs.explicit.get(output.name) ?? binaryOutputs.byDefault) {
      binaryParts.push(raw);
      return { name: output.name, datatype: output.datatype, shape, parameters: { ...parameters, binary_data_size: raw.length } };
    }
    const json: OutputJson = { name: output.name, datatype: output.datatype, shape };
    if (parameters !== undefined) json.parameters = parameters;
    json.data = flatValues(output.name, info, shape, raw);
    return json;
  });
  const header: Record<string, unknown> = { model_name: response.model_name, model_version: response.model_version };
  if (response.id !== '') header['id'] = response.id;
  const parameters = inferParametersToJson(response.parameters);
  if (parameters !== undefined) header['parameters'] = parameters;
  header['outputs'] = outputs;
  const headerBytes = Buffer.from(JSON.stringify(header), 'utf8');
  if (binaryParts.length === 0) {
    return { contentType: 'application/json', headerLength: null, parts: [headerBytes], byteLength: headerBytes.length };
  }
  const parts = [headerBytes, ...binaryParts];
  return { contentType: 'application/octet-stream', headerLength: headerBytes.length, parts, byteLength: parts.reduce((sum, part) => sum + part.length, 0) };
}

/** The output's raw bytes: Triton sends raw_output_contents (one per output); typed contents are read as a fallback. */
function outputBytes(response: ModelInferResponse, output: InferOutputTensor, index: number, info: DatatypeInfo): Buffer {
  const raw = response.raw_output_contents[index];
  if (raw !== undefined) return raw;
  const typed = output.contents === null || output.contents === undefined ? null : typedContentsToRaw(info.datatype, output.contents);
  if (typed === null) throw instanceFault(`output '${output.name}' has no data (no raw_output_contents entry, no typed contents)`);
  return typed;
}

function flatValues(name: string, info: DatatypeInfo, shape: readonly number[], raw: Buffer): JsonTensorValue {
  const count = elementCount(shape);
  const fits = info.byteSize > 0 ? raw.length === count * info.byteSize : deserializeBytesElements(raw)?.length === count;
  if (!fits) throw instanceFault(`output '${name}' has ${raw.length} bytes, which do not hold a ${info.datatype} tensor of shape ${formatShape(shape)}`);
  return tensorToJson({ name, datatype: info.datatype, shape: [count], data: raw });
}

function instanceFault(message: string): TriageError {
  return new TriageError('INTERNAL', `the instance's inference response cannot be written as JSON: ${message}`);
}
