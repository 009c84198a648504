import type { TypedContents } from './typed-contents';

/**
 * The shapes of decoded inference messages, as our proto loader produces them
 * (see PROTO_LOAD_OPTIONS): snake_case names, defaults filled in, 64-bit integers as
 * decimal strings, bytes as Buffers, and `parameter_choice` naming the oneof member set.
 */
export interface InferParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string | number;
  string_param?: string;
  double_param?: number;
  uint64_param?: string | number;
}

export type InferParameters = Record<string, InferParameter>;

export interface InferInputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters: InferParameters;
  contents: TypedContents | null;
}

export interface InferRequestedOutputTensor {
  name: string;
  parameters: InferParameters;
}

export interface ModelInferRequest {
  model_name: string;
  model_version: string;
  id: string;
  parameters: InferParameters;
  inputs: InferInputTensor[];
  outputs: InferRequestedOutputTensor[];
  raw_input_contents: Buffer[];
}

export interface InferOutputTensor {
  name: string;
  datatype: string;
  shape: (string | number)[];
  parameters?: InferParameters;
  contents?: TypedContents | null;
}

export interface ModelInferResponse {
  model_name: string;
  model_version: string;
  id: string;
  parameters?: InferParameters;
  outputs: InferOutputTensor[];
  raw_output_contents: Buffer[];
}

export interface ModelStreamInferResponse {
  error_message: string;
  infer_response: ModelInferResponse | null;
}

/** The value of a request parameter, whatever its wire type. */
export function parameterValue(parameter: InferParameter): boolean | string | number | undefined {
  switch (parameter.parameter_choice) {
    case 'bool_param': return parameter.bool_param;
    case 'int64_param': return parameter.int64_param;
    case 'string_param': return parameter.string_param;
    case 'double_param': return parameter.double_param;
    case 'uint64_param': return parameter.uint64_param;
    default: return undefined;
  }
}
