import { TriageError } from '../../errors/triage-error';
import { bytesGroupOffsets } from '../../protocol/bytes-tensor';
import { datatypeInfo, elementCount, formatShape, type Datatype } from '../../protocol/datatypes';
import type { InferInputTensor, ModelInferRequest } from '../../protocol/inference-messages';
import type { Tensor } from '../../protocol/tensor';
import { typedContentsToRaw, typedContentsValueCount } from '../../protocol/typed-contents';
import { fullShape, type ModelSpec, type TensorSpec } from '../models/model-spec';
import { readRequestParameters, type RequestParameters } from './request-parameters';

/** A request checked against its model, ready for the scheduler. */
export interface InferenceRequest {
  /** Config order, shaped for the backend (reshape applied). Optional inputs not sent are absent. */
  readonly inputs: Tensor[];
  readonly batchSize: number;
  /** Outputs to return, in the order the client asked for them (all, in config order, when it asked for none). */
  readonly requestedOutputs: readonly TensorSpec[];
  readonly parameters: RequestParameters;
}

/**
 * Validates a ModelInferRequest against the model with Triton's rules and messages
 * (INVALID_ARGUMENT, prefixed with the request id) and turns every input, raw or typed,
 * into raw bytes.
 */
export function readInferRequest(request: ModelInferRequest, spec: ModelSpec): InferenceRequest {
  const fail = (message: string): never => {
    throw new TriageError('INVALID_ARGUMENT', `[request id: ${request.id === '' ? '<id_unknown>' : request.id}] ${message}`);
  };
  const parameters = readRequestParameters(request.parameters, fail);
  const specsByName = new Map(spec.inputs.map((input) => [input.name, input]));
  const given = new Map<string, InferInputTensor>();
  for (const input of request.inputs) {
    if (!specsByName.has(input.name)) fail(`unexpected inference input '${input.name}' for model '${spec.name}'`);
    if (given.has(input.name)) fail(`input '${input.name}' was given more than once`);
    given.set(input.name, input);
  }
  const missing = spec.inputs.filter((input) => !input.optional && !given.has(input.name));
  if (missing.length > 0) {
    const required = spec.inputs.filter((input) => !input.optional).length;
    fail(`expected ${required} inputs but got ${request.inputs.length} inputs for model '${spec.name}'. `
      + `Got input(s) [${request.inputs.map((input) => `'${input.name}'`).join(',')}], but missing required input(s) `
      + `[${missing.map((input) => `'${input.name}'`).join(',')}]. Please provide all required input(s).`);
  }
  const usesRaw = request.raw_input_contents.length > 0;
  if (usesRaw && request.raw_input_contents.length !== request.inputs.length) {
    fail(`expected ${request.inputs.length} raw_input_contents entries (one per input, in the order of inputs), got ${request.raw_input_contents.length}`);
  }
  const rawByName = new Map<string, Buffer>();
  request.inputs.forEach((input, index) => {
    if (usesRaw) {
      if (input.contents !== null && typedContentsValueCount(input.contents) > 0) {
        fail(`contents field must not be specified when using raw_input_contents for '${input.name}' for model '${spec.name}'`);
      }
      rawByName.set(input.name, request.raw_input_contents[index] as Buffer);
    }
  });

  let batchSize = 1;
  const inputs: Tensor[] = [];
  let batchFrom: string | null = null;
  for (const inputSpec of spec.inputs) {
    const input = given.get(inputSpec.name);
    if (input === undefined) continue;
    if (input.datatype !== inputSpec.datatype) {
      fail(`inference input '${input.name}' data-type is '${input.datatype}', but model '${spec.name}' expects '${inputSpec.datatype}'`);
    }
    const shape = input.shape.map(Number);
    if (shape.some((dim) => !Number.isSafeInteger(dim) || dim < 0)) fail(`input '${input.name}' has an invalid shape ${formatShape(shape)}`);
    if (!shapeMatches(shape, inputSpec, spec.maxBatchSize)) {
      fail(`unexpected shape for input '${input.name}' for model '${spec.name}'. Expected ${formatShape(fullShape(inputSpec, spec.maxBatchSize))}, got ${formatShape(shape)}`
        + (spec.maxBatchSize > 0 ? '. NOTE: Setting a non-zero max_batch_size in the model config requires a batch dimension to be prepended to each input shape. If you want to specify the full shape including the batch dim in your input dims config, try setting max_batch_size to zero. See the model configuration docs for more info on max_batch_size.' : ''));
    }
    if (spec.maxBatchSize > 0) {
      const rows = shape[0] as number;
      if (batchFrom === null) {
        batchSize = rows;
        batchFrom = input.name;
      } else if (rows !== batchSize) {
        fail(`input '${input.name}' batch size ${rows} does not match input '${batchFrom}' batch size ${batchSize} for model '${spec.name}'`);
      }
    }
    const data = usesRaw ? rawByName.get(input.name) as Buffer : typedData(input, inputSpec.datatype, fail, spec.name);
    checkByteSize(input.name, inputSpec.datatype, shape, data, spec.name, fail);
    const backendShape = inputSpec.backendDims === null ? shape
      : spec.maxBatchSize > 0 ? [batchSize, ...inputSpec.backendDims] : [...inputSpec.backendDims];
    inputs.push({ name: inputSpec.name, datatype: inputSpec.datatype, shape: backendShape, data });
  }
  if (spec.maxBatchSize > 0 && (batchSize < 1 || batchSize > spec.maxBatchSize)) {
    fail(batchSize < 1
      ? `inference request batch-size must be >= 1 for '${spec.name}'`
      : `inference request batch-size must be <= ${spec.maxBatchSize} for '${spec.name}'`);
  }
  return { inputs, batchSize, requestedOutputs: requestedOutputs(request, spec, fail), parameters };
}

function shapeMatches(shape: readonly number[], inputSpec: TensorSpec, maxBatchSize: number): boolean {
  const dims = maxBatchSize > 0 ? shape.slice(1) : shape;
  if (maxBatchSize > 0 && shape.length === 0) return false;
  if (dims.length !== inputSpec.dims.length) return false;
  return dims.every((dim, axis) => inputSpec.dims[axis] === -1 || inputSpec.dims[axis] === dim);
}

function typedData(input: InferInputTensor, datatype: Datatype, fail: (message: string) => never, model: string): Buffer {
  const info = datatypeInfo(datatype);
  if (input.contents === null || typedContentsValueCount(input.contents) === 0) {
    if (elementCount(input.shape.map(Number)) === 0) return Buffer.alloc(0);
    return fail(`unable to find data for input tensor '${input.name}' for model '${model}'`);
  }
  const field = info?.contentsField ?? null;
  if (field === null) {
    return fail(`input '${input.name}' has datatype ${datatype}, which has no typed contents field; send it in raw_input_contents`);
  }
  const values = input.contents[field]?.length ?? 0;
  if (values !== typedContentsValueCount(input.contents)) {
    return fail(`input '${input.name}' has datatype ${datatype}, whose values belong in contents.${field}`);
  }
  return typedContentsToRaw(datatype, input.contents) ?? fail(`input '${input.name}': cannot read typed contents for ${datatype}`);
}

function checkByteSize(name: string, datatype: Datatype, shape: readonly number[], data: Buffer, model: string, fail: (message: string) => never): void {
  const info = datatypeInfo(datatype);
  const elements = elementCount(shape);
  if (info !== undefined && info.byteSize > 0) {
    const expected = elements * info.byteSize;
    if (data.byteLength !== expected) fail(`input byte size mismatch for input '${name}' for model '${model}'. Expected ${expected}, got ${data.byteLength}`);
    return;
  }
  if (bytesGroupOffsets(data, 1, elements) === null) {
    fail(`input '${name}' for model '${model}' is not a valid BYTES tensor of ${elements} element(s): each element must be a 4-byte little-endian length followed by that many bytes`);
  }
}

function requestedOutputs(request: ModelInferRequest, spec: ModelSpec, fail: (message: string) => never): TensorSpec[] {
  if (request.outputs.length === 0) return [...spec.outputs];
  const byName = new Map(spec.outputs.map((output) => [output.name, output]));
  return request.outputs.map((output) => {
    const outputSpec = byName.get(output.name);
    if (outputSpec === undefined) return fail(`unexpected inference output '${output.name}' for model '${spec.name}'`);
    if (Object.keys(output.parameters).length > 0) {
      const names = Object.keys(output.parameters);
      if (names.some((parameter) => parameter !== 'binary_data')) {
        return fail(`output '${output.name}': parameter${names.length > 1 ? 's' : ''} ${names.map((p) => `'${p}'`).join(', ')} not supported by local-triton (classification and shared memory are not available)`);
      }
    }
    return outputSpec;
  });
}
