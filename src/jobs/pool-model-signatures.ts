import { status as GrpcStatus } from '@grpc/grpc-js';
import { TriageError } from '../errors/triage-error';
import type { InstancePool } from '../triton/instance-pool';
import { modelSignatureFromConfig, type DecodedModelConfig, type ModelSignature, type ModelSignatureSource } from './model-signature';

const CONFIG_TIMEOUT_MS = 10_000;

/**
 * Model signatures read from an instance serving the model (ModelConfig), so rows are
 * checked against what will run them. A model no instance reports READY is re-looked for
 * once (it may have been loaded a moment ago), and instances that list it but were
 * ejected are probed again at once (one missed health probe must not refuse a job),
 * before it is refused.
 */
export class PoolModelSignatures implements ModelSignatureSource {
  constructor(private readonly pool: Pick<InstancePool, 'candidates' | 'refreshModels' | 'knows' | 'list' | 'probeNow'>) {}

  async describe(model: string, version: string): Promise<ModelSignature> {
    let candidates = this.pool.candidates(model, version);
    if (candidates.length === 0) {
      await this.pool.refreshModels();
      candidates = this.pool.candidates(model, version);
    }
    if (candidates.length === 0) {
      const ejected = this.pool.list().filter((instance) => !instance.isRoutable() && instance.knownModels.has(model));
      await Promise.all(ejected.map((instance) => this.pool.probeNow(instance.address)));
      candidates = this.pool.candidates(model, version);
    }
    const instance = candidates[0];
    const named = version === '' ? `model '${model}'` : `version ${version} of model '${model}'`;
    if (instance === undefined) {
      if (this.pool.knows(model)) throw new TriageError('UNAVAILABLE', `${named} is not READY on any instance; deploy it, then create the job`);
      throw new TriageError('NOT_FOUND', `no ${named} on any instance`);
    }
    try {
      const reply = await instance.client.unary<{ config: DecodedModelConfig | null }>('ModelConfig', { name: model, version }, { timeoutMs: CONFIG_TIMEOUT_MS });
      return modelSignatureFromConfig(model, version, reply.config ?? {});
    } catch (error) {
      if (error instanceof TriageError) throw error;
      const code = (error as { code?: unknown }).code;
      const details = (error as { details?: unknown }).details;
      if (code === GrpcStatus.NOT_FOUND) throw new TriageError('NOT_FOUND', `no ${named}: ${String(details)}`);
      throw new TriageError('UNAVAILABLE', `cannot read the config of ${named} from ${instance.address}: ${String(details ?? (error as Error).message)}`, { cause: error });
    }
  }
}
