import { TriageError } from '../../errors/triage-error';
import type { InferParameter, InferParameters } from '../../protocol/inference-messages';
import { describeJson, invalid } from './json-rules';

export type JsonParameterValue = boolean | number | string;

/**
 * KServe v2 JSON parameters as InferParameters, typed by their JSON type as Triton's HTTP
 * frontend does: a boolean is bool_param, a string string_param, an integer int64_param,
 * any other number double_param. `consumed` keys belong to the HTTP frontend itself
 * (binary_data_output, binary_data_size, binary_data) and are not forwarded. As on
 * Triton's HTTP port, request parameters named triton_* are refused (they are Triton's
 * own) and shared-memory parameters are refused because triage does not open shared memory.
 * `where` names the owner in messages: "request", "input 'x'", "output 'y'".
 */
export function inferParametersFromJson(json: unknown, where: string, consumed: ReadonlySet<string>, refuseTritonKeys = false): InferParameters {
  if (json === undefined) return {};
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw invalid(`the parameters of the ${where} must be a JSON object, got ${describeJson(json)}`);
  }
  const parameters: InferParameters = {};
  for (const [key, value] of Object.entries(json)) {
    if (consumed.has(key)) continue;
    if (refuseTritonKeys && key.startsWith('triton_')) {
      throw invalid('parameter keys starting with \'triton_\' are reserved for Triton usage and should not be specified.');
    }
    if (key.startsWith('shared_memory_')) {
      throw new TriageError('UNIMPLEMENTED', `parameter '${key}' of the ${where}: shared memory is not available through triage (its shared-memory API is closed); send the tensor's data in the request`);
    }
    parameters[key] = inferParameterFromJson(value, `parameter '${key}' of the ${where}`);
  }
  return parameters;
}

function inferParameterFromJson(value: unknown, what: string): InferParameter {
  switch (typeof value) {
    case 'boolean': return { bool_param: value };
    case 'string': return { string_param: value };
    case 'number':
      if (!Number.isInteger(value)) return { double_param: value };
      if (!Number.isSafeInteger(value)) {
        throw invalid(`${what} is ${value}, an integer beyond ±2^53 that a JSON number cannot carry exactly`);
      }
      return { int64_param: String(value) };
    default:
      throw invalid(`${what} must be a boolean, a number or a string, got ${describeJson(value)}`);
  }
}

/** A JSON value of the response for an InferParameter of the instance's answer. */
export function inferParameterToJson(parameter: InferParameter): JsonParameterValue | undefined {
  switch (parameter.parameter_choice) {
    case 'bool_param': return parameter.bool_param;
    case 'string_param': return parameter.string_param;
    case 'double_param': return parameter.double_param;
    case 'int64_param': return integerJson(parameter.int64_param);
    case 'uint64_param': return integerJson(parameter.uint64_param);
    default: return undefined;
  }
}

/** InferParameters as a JSON object, or undefined when there are none (the member is then left out). */
export function inferParametersToJson(parameters: InferParameters | undefined): Record<string, JsonParameterValue> | undefined {
  if (parameters === undefined) return undefined;
  const entries = Object.entries(parameters);
  if (entries.length === 0) return undefined;
  const json: Record<string, JsonParameterValue> = {};
  for (const [key, parameter] of entries) {
    const value = inferParameterToJson(parameter);
    if (value !== undefined) json[key] = value;
  }
  return json;
}

/** A number when exact, else the decimal string (lossless). */
function integerJson(value: string | number | undefined): number | string | undefined {
  if (value === undefined) return undefined;
  const number = Number(value);
  return Number.isSafeInteger(number) ? number : String(value);
}
