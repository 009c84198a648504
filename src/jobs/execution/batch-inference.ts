import { TriageError } from '../../errors/triage-error';
import { datatypeInfo } from '../../protocol/datatypes';
import type { InferParameters, ModelInferRequest, ModelInferResponse } from '../../protocol/inference-messages';
import { tensorToJson, type JsonTensorValue } from '../../protocol/json-tensor';
import type { Tensor } from '../../protocol/tensor';
import { splitBatch } from '../../protocol/tensor-batching';
import { typedContentsToRaw } from '../../protocol/typed-contents';
import { routedCall, type RoutedCallContext } from '../../proxy/rest/routed-call';
import { fastRowsToJsonText } from './fast-json-tensor';

/** What a job's requests go to, and at which Triton priority (0: the model's default). */
export interface InferTarget {
  readonly model: string;
  readonly version: string;
  readonly priority: number;
}

/**
 * Batched inference for jobs, through the same router and instance pool as online
 * traffic: one ModelInfer per batch of rows, the rows' tensors stacked along a new batch
 * dimension (when the model batches), and the outputs cut back per row.
 */
export class BatchInference {
  constructor(private readonly context: RoutedCallContext, private readonly timeoutMs: number) {}

  /**
   * max_batch_size of the model on an instance serving it (0: it does not batch), routed
   * like an inference: when no instance holds a deployed model, it may wait for its
   * on-demand load. Rejects with the router's NOT_FOUND or UNAVAILABLE.
   */
  async maxBatchSize(model: string, version: string): Promise<number> {
    const peek = { modelName: model, modelVersion: version, sequenceId: null, sequenceStart: false, sequenceEnd: false, firstInputDim: -1 };
    const instance = await this.context.router.route(peek, Date.now() + this.timeoutMs);
    return instance.maxBatchSizes.get(model) ?? 0;
  }

  /**
   * One ModelInfer with these input tensors (batchTensors: `rowCount` rows stacked when
   * `batched`, else one row). Resolves with each row's outputs as the JSON text of an
   * object `{NAME: nested array}`, without the batch dimension when batched; rejects with
   * the router's TriageError or the instance's status.
   */
  async infer(target: InferTarget, inputs: readonly Tensor[], rowCount: number, batched: boolean): Promise<string[]> {
    if (rowCount < 1 || (!batched && rowCount !== 1)) throw new RangeError('a request holds one row, or a batch of rows when the model batches');
    const parameters: InferParameters = target.priority > 0 ? { priority: { uint64_param: String(target.priority) } } : {};
    const request: ModelInferRequest = {
      model_name: target.model,
      model_version: target.version,
      id: '',
      parameters,
      inputs: inputs.map((tensor) => ({ name: tensor.name, datatype: tensor.datatype, shape: [...tensor.shape], parameters: {}, contents: null })),
      outputs: [],
      raw_input_contents: inputs.map((tensor) => tensor.data),
    };
    const response = await routedCall<ModelInferResponse>(this.context, 'ModelInfer', request, { deadline: Date.now() + this.timeoutMs, inference: true });
    return cutOutputs(response, rowCount, batched);
  }
}

/** Each row's outputs as JSON text: the response's tensors cut along the batch dimension. */
function cutOutputs(response: ModelInferResponse, rowCount: number, batched: boolean): string[] {
  const perRow: string[][] = Array.from({ length: rowCount }, () => []);
  response.outputs.forEach((output, index) => {
    const info = datatypeInfo(output.datatype);
    if (info === undefined) throw new TriageError('INTERNAL', `the instance answered output '${output.name}' with unknown datatype '${output.datatype}'`);
    const data = response.raw_output_contents[index] ?? typedContentsToRaw(info.datatype, output.contents ?? {});
    if (data === null) throw new TriageError('INTERNAL', `output '${output.name}' (${output.datatype}) came without raw contents`);
    const tensor: Tensor = { name: output.name, datatype: info.datatype, shape: output.shape.map(Number), data };
    const texts = !batched
      ? [JSON.stringify(tensorToJson(tensor))]
      : fastRowsToJsonText(tensor, rowCount)
        ?? splitBatch(tensor, Array.from({ length: rowCount }, () => 1)).map((piece) => JSON.stringify((tensorToJson(piece) as JsonTensorValue[])[0]));
    const key = JSON.stringify(output.name);
    texts.forEach((text, row) => (perRow[row] as string[]).push(`${key}:${text}`));
  });
  return perRow.map((members) => `{${members.join(',')}}`);
}
