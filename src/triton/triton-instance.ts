import type { Logger } from '../observability/logger';
import { TritonClient } from './triton-client';

export type InstanceHealth = 'unknown' | 'healthy' | 'ejected';

/**
 * One Triton instance as the pool sees it: its client (one channel, shared by health
 * probes and forwarded calls), its health, the model versions it reports READY, and the
 * number of calls the proxy has in flight on it.
 */
export class TritonInstance {
  readonly client: TritonClient;
  health: InstanceHealth = 'unknown';
  /** ServerReady as last probed. */
  serverReady = false;
  /** model name -> versions READY on this instance (from RepositoryIndex). */
  readyModels: ReadonlyMap<string, ReadonlySet<string>> = new Map();
  /** max_batch_size of each READY model, read once per model (ModelConfig). */
  maxBatchSizes: ReadonlyMap<string, number> = new Map();
  /** Protocol extensions the instance reports in ServerMetadata. */
  extensions: readonly string[] = [];
  /** Every model name the instance's repository lists, ready or not. */
  knownModels: ReadonlySet<string> = new Set();
  /** Calls in flight through the proxy; incremented and decremented exactly once per call. */
  outstanding = 0;
  consecutiveFailures = 0;
  lastError = '';

  constructor(readonly address: string, maxMessageBytes: number, readonly logger: Logger) {
    this.client = new TritonClient(address, { maxMessageBytes, reconnect: true });
  }

  isRoutable(): boolean {
    return this.health === 'healthy';
  }

  /** True when the instance reports the model READY (any version when version is ''). */
  serves(model: string, version: string): boolean {
    const versions = this.readyModels.get(model);
    if (versions === undefined) return false;
    return version === '' ? versions.size > 0 : versions.has(version);
  }

  close(): void {
    this.client.close();
  }
}
