import { elementCount } from '../../protocol/datatypes';
import type { InferOutputTensor, ModelInferResponse } from '../../protocol/inference-messages';
import type { Tensor } from '../../protocol/tensor';
import type { TensorSpec } from '../models/model-spec';

/**
 * The ModelInferResponse for a request, as Triton builds it: the requested outputs in
 * the order asked for, data always in raw_output_contents (one entry per output, in
 * the same order), contents never set, the request id echoed.
 */
export function buildInferResponse(
  modelName: string,
  version: number,
  requestId: string,
  requested: readonly TensorSpec[],
  outputSpecs: readonly TensorSpec[],
  outputs: readonly Tensor[],
  maxBatchSize: number,
): ModelInferResponse {
  const byName = new Map<string, Tensor>();
  outputSpecs.forEach((spec, index) => {
    const tensor = outputs[index];
    if (tensor !== undefined) byName.set(spec.name, tensor);
  });
  const tensors: InferOutputTensor[] = [];
  const raw: Buffer[] = [];
  for (const spec of requested) {
    const tensor = byName.get(spec.name);
    if (tensor === undefined) throw new Error(`the backend produced no output '${spec.name}'`);
    tensors.push({ name: spec.name, datatype: spec.datatype, shape: clientShape(spec, tensor, maxBatchSize) });
    raw.push(tensor.data);
  }
  return { model_name: modelName, model_version: String(version), id: requestId, outputs: tensors, raw_output_contents: raw };
}

/** Undoes an output reshape: the client sees the config's dims (a single -1 resolved from the element count). */
function clientShape(spec: TensorSpec, tensor: Tensor, maxBatchSize: number): number[] {
  if (spec.backendDims === null) return [...tensor.shape];
  const batch = maxBatchSize > 0 ? [tensor.shape[0] ?? 0] : [];
  const perRow = elementCount(tensor.shape.slice(batch.length));
  const known = spec.dims.filter((dim) => dim !== -1).reduce((product, dim) => product * dim, 1);
  return [...batch, ...spec.dims.map((dim) => (dim === -1 ? perRow / Math.max(1, known) : dim))];
}
