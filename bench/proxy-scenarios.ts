import type { ModelInferResponse } from '../src/protocol/inference-messages';

/** One request the proxy benchmark sends over and over, and how to tell its answer is right. */
export interface ProxyScenario {
  readonly label: string;
  readonly model: string;
  /** A ModelInferRequest in our proto loader's decoded form. */
  readonly request: Record<string, unknown>;
  /** Throws unless the response is the right answer to `request`. */
  check(response: ModelInferResponse): void;
}

const SIMPLE_INPUT0 = 7;
const SIMPLE_INPUT1 = 3;

/** `simple`: two INT32 [1,16] tensors in, their sum and difference out (Triton's sample model). */
export const SIMPLE_SCENARIO: ProxyScenario = {
  label: 'simple (INT32 [1,16] x2)',
  model: 'simple',
  request: {
    model_name: 'simple',
    inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
    raw_input_contents: [int32Tensor(SIMPLE_INPUT0), int32Tensor(SIMPLE_INPUT1)],
  },
  check: (response) => {
    expectTensor(response, 0, 'OUTPUT0', int32Tensor(SIMPLE_INPUT0 + SIMPLE_INPUT1));
    expectTensor(response, 1, 'OUTPUT1', int32Tensor(SIMPLE_INPUT0 - SIMPLE_INPUT1));
  },
};

const IDENTITY_ELEMENTS = 262_144; // 1 MiB of FP32
const identityInput = Buffer.from(Float32Array.from({ length: IDENTITY_ELEMENTS }, (_, i) => i * 0.5).buffer);

/** `identity_fp32` with a 1 MiB FP32 tensor: the same bytes come back. */
export const IDENTITY_1MIB_SCENARIO: ProxyScenario = {
  label: 'identity_fp32, 1 MiB (FP32 [262144])',
  model: 'identity_fp32',
  request: {
    model_name: 'identity_fp32',
    inputs: [{ name: 'INPUT0', datatype: 'FP32', shape: [IDENTITY_ELEMENTS] }],
    raw_input_contents: [identityInput],
  },
  check: (response) => expectTensor(response, 0, 'OUTPUT0', identityInput),
};

function int32Tensor(value: number): Buffer {
  return Buffer.from(new Int32Array(16).fill(value).buffer);
}

function expectTensor(response: ModelInferResponse, index: number, name: string, expected: Buffer): void {
  const output = response.outputs[index];
  const contents = response.raw_output_contents[index];
  if (output?.name !== name || contents === undefined || !contents.equals(expected)) {
    throw new Error(`wrong answer from ${response.model_name}: output ${index} is ${output?.name ?? 'missing'} `
      + `with ${contents?.length ?? 0} bytes, expected ${name} with the ${expected.length} bytes computed`);
  }
}
