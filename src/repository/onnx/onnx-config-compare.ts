import type { Datatype } from '../../protocol/datatypes';
import type { OnnxIoMetadata } from '../../local-triton/backends/onnxruntime-messages';
import { onnxTypeOf } from '../../local-triton/backends/onnx-element-types';
import type { ModelSpec, TensorSpec } from '../../local-triton/models/model-spec';

export type OnnxMismatchRule =
  | 'onnx-input-missing' | 'onnx-output-missing' | 'onnx-input-undeclared' | 'onnx-type-mismatch'
  | 'onnx-rank-mismatch' | 'onnx-dims-mismatch' | 'onnx-batch-dim';

export interface OnnxMismatch {
  readonly rule: OnnxMismatchRule;
  readonly message: string;
}

/** The parts of a model's config the graph is compared with. */
export type OnnxComparedConfig = Pick<ModelSpec, 'maxBatchSize' | 'inputs' | 'outputs'>;

/**
 * Compares an ONNX graph's inputs and outputs with the config, as Triton's onnxruntime backend
 * does at load: every config tensor is in the graph with the same element type and rank
 * (config dims, or reshape, plus the batch dimension when max_batch_size > 0), fixed dims
 * agree, a batching model's first graph dim is variable, and every graph input is declared.
 * Returns every mismatch; the messages are those local-triton's load check prints.
 */
export function compareOnnxWithConfig(config: OnnxComparedConfig, graphInputs: readonly OnnxIoMetadata[], graphOutputs: readonly OnnxIoMetadata[]): OnnxMismatch[] {
  const mismatches: OnnxMismatch[] = [];
  compareTensors('input', config, config.inputs, graphInputs, mismatches);
  compareTensors('output', config, config.outputs, graphOutputs, mismatches);
  const declared = new Set(config.inputs.map((input) => input.name));
  for (const graphInput of graphInputs) {
    if (!declared.has(graphInput.name)) {
      mismatches.push({ rule: 'onnx-input-undeclared', message: `the model has input '${graphInput.name}', which the configuration does not declare` });
    }
  }
  return mismatches;
}

/** The element type name a Triton datatype has in ONNX (onnxruntime-node's names; BF16, which it lacks, as 'bfloat16'). */
function graphTypeOf(datatype: Datatype): string | undefined {
  return onnxTypeOf(datatype) ?? (datatype === 'BF16' ? 'bfloat16' : undefined);
}

function compareTensors(kind: 'input' | 'output', config: OnnxComparedConfig, tensors: readonly TensorSpec[], graph: readonly OnnxIoMetadata[], mismatches: OnnxMismatch[]): void {
  const byName = new Map(graph.map((entry) => [entry.name, entry]));
  for (const tensor of tensors) {
    const entry = byName.get(tensor.name);
    if (entry === undefined) {
      mismatches.push({
        rule: kind === 'input' ? 'onnx-input-missing' : 'onnx-output-missing',
        message: `configuration ${kind} '${tensor.name}' is not an ${kind} of the model (the model has ${graph.map((g) => `'${g.name}'`).join(', ') || 'none'})`,
      });
      continue;
    }
    if (entry.type === null || entry.type !== graphTypeOf(tensor.datatype)) {
      mismatches.push({ rule: 'onnx-type-mismatch', message: `${kind} '${tensor.name}' is ${entry.type ?? 'not a tensor'} in the model but ${tensor.datatype} in the configuration` });
      continue;
    }
    if (entry.dims === null) continue;
    const dims = tensor.backendDims ?? tensor.dims;
    const expected = config.maxBatchSize > 0 ? [-1, ...dims] : [...dims];
    if (entry.dims.length !== expected.length) {
      mismatches.push({
        rule: 'onnx-rank-mismatch',
        message: `${kind} '${tensor.name}' has rank ${entry.dims.length} in the model but the configuration implies rank ${expected.length} (dims [${dims.join(',')}]${config.maxBatchSize > 0 ? ' plus the batch dimension' : ''})`,
      });
      continue;
    }
    expected.forEach((dim, axis) => {
      const graphDim = entry.dims?.[axis] ?? null;
      if (graphDim !== null && dim !== -1 && graphDim !== dim) {
        mismatches.push({ rule: 'onnx-dims-mismatch', message: `${kind} '${tensor.name}' dimension ${axis} is ${graphDim} in the model but ${dim} in the configuration` });
      }
      if (axis === 0 && config.maxBatchSize > 0 && graphDim !== null && graphDim !== -1) {
        mismatches.push({ rule: 'onnx-batch-dim', message: `${kind} '${tensor.name}' has a fixed first dimension (${graphDim}) but max_batch_size > 0 needs a variable batch dimension` });
      }
    });
  }
}
