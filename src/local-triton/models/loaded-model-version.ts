import { join } from 'node:path';
import type { BackendInstance, InstanceContext } from '../backends/backend-instance';
import { createIdentityInstance } from '../backends/identity-backend';
import { createOnnxRuntimeInstance, onnxModelPath } from '../backends/onnxruntime-backend';
import { readOnnxGraphIo } from '../../repository/onnx/onnx-graph-io';
import { ModelScheduler } from '../scheduling/model-scheduler';
import { ModelStatistics } from '../statistics/model-statistics';
import type { ModelConfigObject } from './model-config-types';
import type { ModelSpec } from './model-spec';

const INSTANCE_FACTORIES: Readonly<Record<ModelSpec['backend'], (context: InstanceContext) => Promise<BackendInstance>>> = {
  onnxruntime: createOnnxRuntimeInstance,
  identity: createIdentityInstance,
};

/** One version of a model with its instances up: what inference requests run on. */
export class LoadedModelVersion {
  readonly statistics = new ModelStatistics();
  readonly scheduler: ModelScheduler;

  private constructor(
    readonly spec: ModelSpec,
    /** The config as served by the ModelConfig RPC (Triton's defaults filled in). */
    readonly config: ModelConfigObject,
    readonly version: number,
    private readonly instances: readonly BackendInstance[],
  ) {
    this.scheduler = new ModelScheduler(instances, spec.batching, spec.maxBatchSize, this.statistics);
  }

  /** Creates every instance; if one fails, those already up are closed and the error is rethrown. */
  static async load(spec: ModelSpec, config: ModelConfigObject, modelPath: string, version: number): Promise<LoadedModelVersion> {
    const versionPath = join(modelPath, String(version));
    const factory = INSTANCE_FACTORIES[spec.backend];
    const settled = await Promise.allSettled(Array.from({ length: spec.instanceCount }, (_, index) =>
      factory({ spec, versionPath, instanceName: `${spec.name}_${version}_${index}` })));
    const instances = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
    const failure = settled.find((result): result is PromiseRejectedResult => result.status === 'rejected');
    if (failure !== undefined) {
      await Promise.all(instances.map((instance) => instance.close()));
      throw failure.reason instanceof Error ? failure.reason : new Error(String(failure.reason));
    }
    const loaded = new LoadedModelVersion(spec, config, version, instances);
    // What Triton reports as memory_usage is measured at load; local-triton reports the
    // weights every instance holds (the part of an onnxruntime session that grows with the model).
    if (spec.backend === 'onnxruntime') {
      const weights = await onnxWeightBytes(onnxModelPath(versionPath, spec.defaultModelFilename || 'model.onnx'));
      if (weights > 0) loaded.statistics.memoryUsage = [{ type: 'CPU', id: 0, byteSize: weights * instances.length }];
    }
    return loaded;
  }

  /** Lets queued and running requests finish, then releases every instance. */
  async unload(): Promise<void> {
    await this.scheduler.drain();
    await Promise.all(this.instances.map((instance) => instance.close()));
  }
}

/** The initializer bytes of an ONNX file, or 0 when it cannot be read (the load itself already succeeded). */
async function onnxWeightBytes(path: string): Promise<number> {
  try {
    return (await readOnnxGraphIo(path)).initializerBytes;
  } catch {
    return 0;
  }
}
