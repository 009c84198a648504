import { join } from 'node:path';
import { datatypeFromConfigType } from '../../protocol/datatypes';
import type { ModelConfigObject, TensorConfig } from '../../local-triton/models/model-config-types';
import type { TensorSpec } from '../../local-triton/models/model-spec';
import { compareOnnxWithConfig } from '../onnx/onnx-config-compare';
import { OnnxFormatError } from '../onnx/onnx-format-error';
import { readOnnxGraphIo, type OnnxGraphIo } from '../onnx/onnx-graph-io';
import { entryKind } from './model-file-rules';
import type { ProblemReport } from './validation-problem';

/**
 * Reads the graph of the ONNX model at `file` (relative to the model folder; a folder holding
 * model.onnx and its external data counts as the model) without loading it, and reports every
 * way it disagrees with the config. A truncated or corrupt file is a problem, not a failure.
 */
export async function checkOnnxModel(modelPath: string, file: string, config: ModelConfigObject, report: ProblemReport): Promise<void> {
  let graphFile = file;
  if (await entryKind(join(modelPath, file)) === 'directory') {
    graphFile = `${file}/model.onnx`;
    if (await entryKind(join(modelPath, graphFile)) !== 'file') {
      report(graphFile, 'missing-model-file', `${file}/ is a folder, so onnxruntime loads ${graphFile}, which is missing`);
      return;
    }
  }
  let graph: OnnxGraphIo;
  try {
    graph = await readOnnxGraphIo(join(modelPath, graphFile));
  } catch (error) {
    if (!(error instanceof OnnxFormatError)) throw error;
    report(graphFile, 'onnx-unreadable', `${graphFile} is not a readable ONNX model (${error.message})`);
    return;
  }
  const compared = { maxBatchSize: config.max_batch_size ?? 0, inputs: tensorSpecs(config.input ?? []), outputs: tensorSpecs(config.output ?? []) };
  for (const mismatch of compareOnnxWithConfig(compared, graph.inputs, graph.outputs)) {
    report(graphFile, mismatch.rule, `${graphFile}: ${mismatch.message}`);
  }
}

/** The config's tensors that have a name and a valid data_type (the others are reported by the tensor rules). */
function tensorSpecs(tensors: readonly TensorConfig[]): TensorSpec[] {
  const specs: TensorSpec[] = [];
  for (const tensor of tensors) {
    const info = datatypeFromConfigType(tensor.data_type ?? '');
    if ((tensor.name ?? '') === '' || info === undefined) continue;
    specs.push({
      name: tensor.name as string,
      datatype: info.datatype,
      dims: tensor.dims ?? [],
      backendDims: tensor.reshape === undefined ? null : tensor.reshape.shape ?? [],
      optional: tensor.optional === true,
    });
  }
  return specs;
}
