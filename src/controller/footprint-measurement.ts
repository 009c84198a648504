import type { TritonClient } from '../triton/triton-client';

interface MemoryUsage {
  readonly type?: string;
  readonly byte_size?: string | number;
}

/**
 * The memory a model took on an instance, from what the instance reports in
 * ModelStatistics.memory_usage (measured by Triton at load; one entry per kind of memory and
 * device): the GPU bytes when it reports any, else every kind summed, over the versions it
 * serves; null when it reports nothing (an older Triton, or a backend that does not tell).
 */
export async function measureFootprint(client: TritonClient, model: string, timeoutMs: number): Promise<number | null> {
  const answer = await client.unary<{ model_stats?: { memory_usage?: MemoryUsage[] }[] }>('ModelStatistics', { name: model, version: '' }, { timeoutMs });
  const usages = (answer.model_stats ?? []).flatMap((stats) => stats.memory_usage ?? []);
  const bytesOf = (entries: readonly MemoryUsage[]): number => entries.reduce((sum, usage) => sum + Number(usage.byte_size ?? 0), 0);
  const gpu = usages.filter((usage) => usage.type === 'GPU');
  const bytes = gpu.length > 0 ? bytesOf(gpu) : bytesOf(usages);
  return Number.isSafeInteger(bytes) && bytes > 0 ? bytes : null;
}
