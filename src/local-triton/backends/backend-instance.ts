import type { Tensor } from '../../protocol/tensor';
import type { ModelSpec } from '../models/model-spec';

/**
 * One execution instance of a model (Triton's "model instance"): it runs one batch at a
 * time; the scheduler never calls execute again before the previous call settled.
 */
export interface BackendInstance {
  /**
   * Runs one batch. Inputs come in config order, shaped as the backend sees them (the
   * config's reshape applied, batch dimension first when the model batches). Returns
   * every output of the config, in config order.
   */
  execute(inputs: readonly Tensor[]): Promise<Tensor[]>;
  /** Releases the instance; resolves when its resources are gone. Called once. */
  close(): Promise<void>;
}

export interface InstanceContext {
  readonly spec: ModelSpec;
  /** The version directory, e.g. <repository>/<model>/1. */
  readonly versionPath: string;
  readonly instanceName: string;
}
