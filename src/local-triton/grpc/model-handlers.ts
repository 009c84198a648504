import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger';
import type { ModelManager } from '../models/model-manager';
import { fullShape } from '../models/model-spec';
import { unaryHandler } from '../../protocol/grpc-unary-handler';

interface ModelRequest {
  name: string;
  version: string;
}

/** ModelReady, ModelMetadata, ModelConfig, ModelStatistics. */
export function modelHandlers(models: ModelManager, logger: Logger): UntypedServiceImplementation {
  return {
    ModelReady: unaryHandler<ModelRequest, unknown>(logger, 'ModelReady', (request) => ({ ready: models.isReady(request.name, request.version) })),

    ModelMetadata: unaryHandler<ModelRequest, unknown>(logger, 'ModelMetadata', (request) => {
      const model = models.resolve(request.name, request.version);
      const { spec } = model;
      const versions = request.version === '' ? models.readyVersionsOf(request.name).map((v) => String(v.version)) : [String(model.version)];
      const tensor = (t: (typeof spec.inputs)[number]): unknown => ({ name: t.name, datatype: t.datatype, shape: fullShape(t, spec.maxBatchSize) });
      return {
        name: spec.name,
        versions,
        platform: spec.platform !== '' ? spec.platform : spec.backend,
        inputs: spec.inputs.map(tensor),
        outputs: spec.outputs.map(tensor),
      };
    }),

    ModelConfig: unaryHandler<ModelRequest, unknown>(logger, 'ModelConfig', (request) => ({ config: models.resolve(request.name, request.version).config })),

    ModelStatistics: unaryHandler<ModelRequest, unknown>(logger, 'ModelStatistics', (request) => {
      if (request.name === '') {
        return { model_stats: models.loadedVersions().map((v) => v.statistics.toMessage(v.spec.name, String(v.version))) };
      }
      // resolve() throws Triton's NOT_FOUND / UNAVAILABLE for an unknown or unloaded model.
      const addressed = models.resolve(request.name, request.version);
      const versions = request.version === '' ? models.readyVersionsOf(request.name) : [addressed];
      return { model_stats: versions.map((v) => v.statistics.toMessage(v.spec.name, String(v.version))) };
    }),
  };
}
