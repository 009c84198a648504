import { asTriageError } from '../../errors/triage-error';
import type { ModelInferRequest, ModelInferResponse } from '../../protocol/inference-messages';
import type { ModelManager } from '../models/model-manager';
import type { FailureReason } from '../statistics/model-statistics';
import { readInferRequest } from './infer-request-reader';
import { buildInferResponse } from './infer-response-builder';

const FAILURE_REASON: Readonly<Record<string, FailureReason>> = {
  INVALID_ARGUMENT: 'REJECTED',
  UNAVAILABLE: 'REJECTED',
  CANCELLED: 'CANCELED',
  INTERNAL: 'BACKEND',
};

/**
 * One inference from request message to response message: resolve the model version,
 * validate, schedule, build the response, and count it in the version's statistics
 * (success or failure, end to end). Errors are thrown as TriageErrors with Triton's text.
 */
export class InferenceRunner {
  constructor(private readonly models: ModelManager, private readonly nowNs: () => bigint = process.hrtime.bigint) {}

  async infer(request: ModelInferRequest, isCancelled: () => boolean): Promise<ModelInferResponse> {
    const startNs = this.nowNs();
    const model = this.models.resolve(request.model_name, request.model_version);
    try {
      const plan = readInferRequest(request, model.spec);
      const outcome = await model.scheduler.schedule({
        inputs: plan.inputs,
        batchSize: plan.batchSize,
        priority: plan.parameters.priority,
        timeoutUs: plan.parameters.timeoutUs,
        isCancelled,
      });
      const response = buildInferResponse(model.spec.name, model.version, request.id, plan.requestedOutputs, model.spec.outputs, outcome.outputs, model.spec.maxBatchSize);
      model.statistics.recordSuccess(this.nowNs() - startNs, outcome.queueNs, model.spec.maxBatchSize > 0 ? outcome.batchSize : 1, outcome.compute);
      return response;
    } catch (error) {
      const triageError = asTriageError(error);
      model.statistics.recordFailure(this.nowNs() - startNs, FAILURE_REASON[triageError.code] ?? 'OTHER');
      throw triageError;
    }
  }
}
