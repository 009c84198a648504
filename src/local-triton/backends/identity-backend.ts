import type { Tensor } from '../../protocol/tensor';
import type { ModelSpec } from '../models/model-spec';
import type { BackendInstance, InstanceContext } from './backend-instance';

/**
 * Triton's test backend: output i is input i, renamed. The config must pair inputs and
 * outputs one to one with the same datatype.
 */
export function createIdentityInstance(context: InstanceContext): Promise<BackendInstance> {
  checkIdentityPairs(context.spec);
  const outputNames = context.spec.outputs.map((output) => output.name);
  return Promise.resolve({
    execute(inputs: readonly Tensor[]): Promise<Tensor[]> {
      return Promise.resolve(inputs.map((input, index) => ({ ...input, name: outputNames[index] ?? input.name })));
    },
    close(): Promise<void> {
      return Promise.resolve();
    },
  });
}

function checkIdentityPairs(spec: ModelSpec): void {
  if (spec.inputs.length !== spec.outputs.length) {
    throw new Error(`the identity backend needs as many outputs as inputs; '${spec.name}' has ${spec.inputs.length} inputs and ${spec.outputs.length} outputs`);
  }
  spec.inputs.forEach((input, index) => {
    const output = spec.outputs[index];
    if (output !== undefined && output.datatype !== input.datatype) {
      throw new Error(`the identity backend copies input '${input.name}' (${input.datatype}) to output '${output.name}', which is declared ${output.datatype}`);
    }
  });
}
