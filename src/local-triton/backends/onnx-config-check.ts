import { compareOnnxWithConfig } from '../../repository/onnx/onnx-config-compare';
import type { ModelSpec } from '../models/model-spec';
import type { OnnxIoMetadata } from './onnxruntime-messages';

/**
 * Checks the ONNX graph against the model config, as Triton's onnxruntime backend does
 * at load (the rules are compareOnnxWithConfig's, shared with the registry's
 * validation). Throws listing every problem.
 */
export function checkOnnxAgainstConfig(spec: ModelSpec, graphInputs: OnnxIoMetadata[], graphOutputs: OnnxIoMetadata[]): void {
  const problems = compareOnnxWithConfig(spec, graphInputs, graphOutputs).map((mismatch) => mismatch.message);
  if (problems.length > 0) throw new Error(`model '${spec.name}' does not match its configuration:\n${problems.join('\n')}`);
}
