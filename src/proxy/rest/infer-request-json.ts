import { ALL_DATATYPES, datatypeInfo, type Datatype } from '../../protocol/datatypes';
import type { InferParameters } from '../../protocol/inference-messages';
import { inferParametersFromJson } from './infer-parameters-json';
import { jsonTensorData } from './json-tensor-data';
import { describeJson, invalid, isJsonObject, stringMember } from './json-rules';

/** A ModelInferRequest in the plain form the proto codec serializes: raw contents, one per input. */
export interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: InferParameters;
  inputs: { name: string; datatype: string; shape: number[]; parameters: InferParameters }[];
  outputs: { name: string; parameters: InferParameters }[];
  raw_input_contents: Buffer[];
}

/** Which outputs the client wants as binary data: its `binary_data` choice, else the request's `binary_data_output`. */
export interface BinaryOutputChoice {
  readonly explicit: ReadonlyMap<string, boolean>;
  readonly byDefault: boolean;
}

export interface RestInferRequest {
  readonly message: InferRequestMessage;
  readonly binaryOutputs: BinaryOutputChoice;
}

const REQUEST_CONSUMED = new Set(['binary_data_output']);
const INPUT_CONSUMED = new Set(['binary_data_size']);
const OUTPUT_CONSUMED = new Set(['binary_data']);

/**
 * The ModelInferRequest for a KServe v2 inference request: `header` is its JSON,
 * `binary` the bytes after it (Triton's binary tensor extension), holding the inputs with
 * a `binary_data_size` parameter back to back in input order. JSON `data` is converted to
 * raw bytes; binary data is taken as is (the instance checks it against the model, in its
 * own words). A request that breaks a rule is a 400 naming the input and the rule.
 */
export function inferRequestFromJson(header: unknown, binary: Buffer, modelName: string, modelVersion: string): RestInferRequest {
  if (!isJsonObject(header)) throw invalid(`the inference request must be a JSON object, got ${describeJson(header)}`);
  const id = stringMember(header, 'id', 'the inference request', true) ?? '';
  const requestParameters = header['parameters'];
  const binaryByDefault = booleanParameter(requestParameters, 'binary_data_output', 'the request');
  const parameters = inferParametersFromJson(requestParameters, 'request', REQUEST_CONSUMED, true);
  const inputsJson = header['inputs'];
  if (!Array.isArray(inputsJson)) throw invalid(`the inference request must have an 'inputs' array, got ${describeJson(inputsJson)}`);
  const inputs: InferRequestMessage['inputs'] = [];
  const raw: Buffer[] = [];
  let offset = 0;
  inputsJson.forEach((inputJson: unknown, index) => {
    if (!isJsonObject(inputJson)) throw invalid(`inputs[${index}] must be a JSON object, got ${describeJson(inputJson)}`);
    const name = stringMember(inputJson, 'name', `inputs[${index}]`);
    const where = `input '${name}'`;
    const datatype = datatypeOf(inputJson, where);
    const shape = shapeOf(inputJson['shape'], where);
    const size = binaryDataSize(inputJson['parameters'], where);
    inputs.push({ name, datatype, shape, parameters: inferParametersFromJson(inputJson['parameters'], where, INPUT_CONSUMED) });
    if (size === null) {
      if (inputJson['data'] === undefined) throw invalid(`${where} has neither 'data' nor a binary_data_size parameter`);
      raw.push(jsonTensorData(name, datatype, shape, inputJson['data']));
      return;
    }
    if (inputJson['data'] !== undefined) throw invalid(`${where} has both 'data' and a binary_data_size parameter; send its values one way`);
    if (offset + size > binary.length) {
      throw invalid(`${where}: binary_data_size ${size} runs past the end of the body (${binary.length - offset} binary byte${binary.length - offset === 1 ? '' : 's'} left after the JSON header and the inputs before it)`);
    }
    raw.push(binary.subarray(offset, offset + size));
    offset += size;
  });
  if (offset !== binary.length) {
    throw invalid(`the body has ${binary.length} byte${binary.length === 1 ? '' : 's'} after the JSON header, but the inputs' binary_data_size parameters add up to ${offset}`);
  }
  const { outputs, explicit } = outputsOf(header['outputs']);
  return {
    message: { model_name: modelName, model_version: modelVersion, id, parameters, inputs, outputs, raw_input_contents: raw },
    binaryOutputs: { explicit, byDefault: binaryByDefault ?? false },
  };
}

function datatypeOf(input: Record<string, unknown>, where: string): Datatype {
  const datatype = stringMember(input, 'datatype', where);
  const info = datatypeInfo(datatype);
  if (info === undefined) throw invalid(`${where}: unknown datatype '${datatype}' (expected one of ${ALL_DATATYPES.join(', ')})`);
  return info.datatype;
}

function shapeOf(shape: unknown, where: string): number[] {
  if (!Array.isArray(shape) || !shape.every((dim) => Number.isSafeInteger(dim) && (dim as number) >= 0)) {
    throw invalid(`${where}: 'shape' must be an array of non-negative integers, got ${Array.isArray(shape) ? JSON.stringify(shape) : describeJson(shape)}`);
  }
  return shape as number[];
}

/** The input's binary_data_size, or null when its data is in JSON. */
function binaryDataSize(parameters: unknown, where: string): number | null {
  if (!isJsonObject(parameters) || parameters['binary_data_size'] === undefined) return null;
  const size = parameters['binary_data_size'];
  if (!Number.isSafeInteger(size) || (size as number) < 0) {
    throw invalid(`${where}: parameter 'binary_data_size' must be a non-negative integer (a byte count), got ${describeJson(size)}`);
  }
  return size as number;
}

/** A boolean HTTP-only parameter (binary_data_output, binary_data), undefined when not given. */
function booleanParameter(parameters: unknown, key: string, where: string): boolean | undefined {
  if (!isJsonObject(parameters) || parameters[key] === undefined) return undefined;
  const value = parameters[key];
  if (typeof value !== 'boolean') throw invalid(`parameter '${key}' of ${where} must be true or false, got ${describeJson(value)}`);
  return value;
}

function outputsOf(json: unknown): { outputs: InferRequestMessage['outputs']; explicit: Map<string, boolean> } {
  const outputs: InferRequestMessage['outputs'] = [];
  const explicit = new Map<string, boolean>();
  if (json === undefined) return { outputs, explicit };
  if (!Array.isArray(json)) throw invalid(`'outputs' must be an array of requested outputs, got ${describeJson(json)}`);
  json.forEach((output: unknown, index) => {
    if (!isJsonObject(output)) throw invalid(`outputs[${index}] must be a JSON object, got ${describeJson(output)}`);
    const name = stringMember(output, 'name', `outputs[${index}]`);
    const where = `output '${name}'`;
    const binary = booleanParameter(output['parameters'], 'binary_data', where);
    if (binary !== undefined) explicit.set(name, binary);
    outputs.push({ name, parameters: inferParametersFromJson(output['parameters'], where, OUTPUT_CONSUMED) });
  });
  return { outputs, explicit };
}
