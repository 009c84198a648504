import type { ModelSpec, TensorSpec } from '../models/model-spec';
import { onnxTypeOf } from './onnx-element-types';
import type { OnnxIoMetadata } from './onnxruntime-messages';

/**
 * Checks the ONNX graph against the model config, as Triton's onnxruntime backend does
 * at load: every config tensor exists in the graph with the same element type and rank,
 * fixed dims agree, every graph input is in the config. Throws listing every problem.
 */
export function checkOnnxAgainstConfig(spec: ModelSpec, graphInputs: OnnxIoMetadata[], graphOutputs: OnnxIoMetadata[]): void {
  const problems: string[] = [];
  checkTensors('input', spec, spec.inputs, graphInputs, problems);
  checkTensors('output', spec, spec.outputs, graphOutputs, problems);
  const configured = new Set(spec.inputs.map((input) => input.name));
  for (const graphInput of graphInputs) {
    if (!configured.has(graphInput.name)) problems.push(`the model has input '${graphInput.name}', which the configuration does not declare`);
  }
  if (problems.length > 0) throw new Error(`model '${spec.name}' does not match its configuration:\n${problems.join('\n')}`);
}

function checkTensors(kind: 'input' | 'output', spec: ModelSpec, tensors: readonly TensorSpec[], graph: OnnxIoMetadata[], problems: string[]): void {
  const byName = new Map(graph.map((entry) => [entry.name, entry]));
  for (const tensor of tensors) {
    const entry = byName.get(tensor.name);
    if (entry === undefined) {
      problems.push(`configuration ${kind} '${tensor.name}' is not an ${kind} of the model (the model has ${graph.map((g) => `'${g.name}'`).join(', ') || 'none'})`);
      continue;
    }
    const expectedType = onnxTypeOf(tensor.datatype);
    if (entry.type === null || entry.type !== expectedType) {
      problems.push(`${kind} '${tensor.name}' is ${entry.type ?? 'not a tensor'} in the model but ${tensor.datatype} in the configuration`);
      continue;
    }
    if (entry.dims === null) continue;
    const dims = tensor.backendDims ?? tensor.dims;
    const expected = spec.maxBatchSize > 0 ? [-1, ...dims] : [...dims];
    if (entry.dims.length !== expected.length) {
      problems.push(`${kind} '${tensor.name}' has rank ${entry.dims.length} in the model but the configuration implies rank ${expected.length} (dims [${dims.join(',')}]${spec.maxBatchSize > 0 ? ' plus the batch dimension' : ''})`);
      continue;
    }
    expected.forEach((dim, axis) => {
      const graphDim = entry.dims?.[axis] ?? null;
      if (graphDim !== null && dim !== -1 && graphDim !== dim) {
        problems.push(`${kind} '${tensor.name}' dimension ${axis} is ${graphDim} in the model but ${dim} in the configuration`);
      }
      if (axis === 0 && spec.maxBatchSize > 0 && graphDim !== null && graphDim !== -1) {
        problems.push(`${kind} '${tensor.name}' has a fixed first dimension (${graphDim}) but max_batch_size > 0 needs a variable batch dimension`);
      }
    });
  }
}
