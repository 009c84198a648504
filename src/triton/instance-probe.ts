import type { TritonClient } from './triton-client';

export interface ProbeResult {
  readonly ready: boolean;
  readonly extensions: readonly string[];
  readonly readyModels: Map<string, Set<string>>;
  readonly knownModels: Set<string>;
}

interface IndexEntry {
  name: string;
  version: string;
  state: string;
}

/**
 * One health probe: ServerLive must be true; ServerReady, RepositoryIndex and
 * ServerMetadata say what the instance can serve. Every call has the probe's deadline. Throws when the instance
 * is not live or does not answer in time.
 */
export async function probeInstance(client: TritonClient, timeoutMs: number): Promise<ProbeResult> {
  const options = { timeoutMs };
  const live = await client.unary<{ live: boolean }>('ServerLive', {}, options);
  if (!live.live) throw new Error('ServerLive answered false');
  const [ready, index, metadata] = await Promise.all([
    client.unary<{ ready: boolean }>('ServerReady', {}, options),
    client.unary<{ models: IndexEntry[] }>('RepositoryIndex', { repository_name: '', ready: false }, options),
    client.unary<{ extensions: string[] }>('ServerMetadata', {}, options),
  ]);
  const readyModels = new Map<string, Set<string>>();
  const knownModels = new Set<string>();
  for (const entry of index.models) {
    knownModels.add(entry.name);
    if (entry.state !== 'READY') continue;
    let versions = readyModels.get(entry.name);
    if (versions === undefined) {
      versions = new Set();
      readyModels.set(entry.name, versions);
    }
    versions.add(entry.version);
  }
  return { ready: ready.ready, extensions: metadata.extensions, readyModels, knownModels };
}

/** max_batch_size of a model as the instance serves it (0: the model does not batch). */
export async function probeMaxBatchSize(client: TritonClient, model: string, timeoutMs: number): Promise<number> {
  const reply = await client.unary<{ config: { max_batch_size?: number } | null }>('ModelConfig', { name: model, version: '' }, { timeoutMs });
  return Number(reply.config?.max_batch_size ?? 0);
}
