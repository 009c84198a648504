import assert from 'node:assert/strict';
import { checkOnnxAgainstConfig } from '../../../src/local-triton/backends/onnx-config-check';
import type { OnnxIoMetadata } from '../../../src/local-triton/backends/onnxruntime-messages';
import type { ModelSpec, TensorSpec } from '../../../src/local-triton/models/model-spec';
import { compareOnnxWithConfig } from '../../../src/repository/onnx/onnx-config-compare';

const tensor = (name: string, dims: number[], datatype: TensorSpec['datatype'] = 'FP32', backendDims: number[] | null = null): TensorSpec => ({
  name, datatype, dims, backendDims, optional: false,
});

function spec(maxBatchSize: number, inputs: TensorSpec[], outputs: TensorSpec[]): ModelSpec {
  return {
    name: 'm', backend: 'onnxruntime', platform: 'onnxruntime_onnx', maxBatchSize, inputs, outputs,
    batching: null, instanceCount: 1, defaultModelFilename: 'model.onnx',
  };
}

const graphTensor = (name: string, dims: (number | null)[] | null, type: string | null = 'float32'): OnnxIoMetadata => ({ name, type, dims });

describe('compareOnnxWithConfig', () => {
  const cases: [string, ModelSpec, OnnxIoMetadata[], OnnxIoMetadata[], string[]][] = [
    ['a matching graph', spec(8, [tensor('x', [4])], [tensor('y', [-1, 2])]), [graphTensor('x', [null, 4])], [graphTensor('y', [null, 3, 2])], []],
    ['a missing input and an undeclared one', spec(8, [tensor('x', [4])], [tensor('y', [2])]), [graphTensor('z', [null, 4])], [graphTensor('y', [null, 2])],
      ['onnx-input-missing', 'onnx-input-undeclared']],
    ['a missing output', spec(0, [tensor('x', [4])], [tensor('y', [2])]), [graphTensor('x', [4])], [graphTensor('w', [2])], ['onnx-output-missing']],
    ['another element type, and a non-tensor', spec(0, [tensor('x', [4], 'INT64'), tensor('s', [1])], [tensor('y', [2])]),
      [graphTensor('x', [4], 'int32'), graphTensor('s', null, null)], [graphTensor('y', [2])], ['onnx-type-mismatch', 'onnx-type-mismatch']],
    ['another rank', spec(8, [tensor('x', [4])], [tensor('y', [2])]), [graphTensor('x', [4])], [graphTensor('y', [null, 2])], ['onnx-rank-mismatch']],
    ['another fixed dim and a fixed batch dim', spec(8, [tensor('x', [4])], [tensor('y', [2])]), [graphTensor('x', [1, 5])], [graphTensor('y', [null, 2])],
      ['onnx-batch-dim', 'onnx-dims-mismatch']],
    ['a reshape the graph follows', spec(8, [tensor('x', [2, 2], 'FP32', [4])], [tensor('y', [2])]), [graphTensor('x', [null, 4])], [graphTensor('y', [null, 2])], []],
    ['a graph of unknown rank', spec(8, [tensor('x', [2, 2])], [tensor('y', [2])]), [graphTensor('x', null)], [graphTensor('y', [null, 2])], []],
  ];

  for (const [label, config, inputs, outputs, rules] of cases) {
    it(`${label}: the rules, with local-triton's load check messages word for word`, () => {
      const mismatches = compareOnnxWithConfig(config, inputs, outputs);
      assert.deepEqual(mismatches.map((mismatch) => mismatch.rule).sort(), [...rules].sort());
      let thrown: string[] = [];
      try {
        checkOnnxAgainstConfig(config, inputs, outputs);
      } catch (error) {
        thrown = (error as Error).message.split('\n').slice(1);
      }
      assert.deepEqual(mismatches.map((mismatch) => mismatch.message), thrown);
    });
  }
});
