import type { TritonClient } from '../src/triton/triton-client';

export interface InferenceCounts {
  readonly success: number;
  readonly fail: number;
}

interface StatisticsResponse {
  model_stats: { inference_stats: { success: { count: string }; fail: { count: string } } | null }[];
}

/** How many inference requests of `model` the server has answered with success and with failure, from ModelStatistics. */
export async function inferenceCounts(client: TritonClient, model: string): Promise<InferenceCounts> {
  const response = await client.unary<StatisticsResponse>('ModelStatistics', { name: model, version: '' });
  const stats = response.model_stats[0]?.inference_stats;
  return { success: Number(stats?.success.count ?? 0), fail: Number(stats?.fail.count ?? 0) };
}
