import type { TritonTestClient } from './grpc-test-client';

export interface StatisticDuration { count: string; ns: string }

/** One entry of a ModelStatisticsResponse, as our proto loader decodes it (int64 as strings). */
export interface ModelStatsMessage {
  name: string;
  version: string;
  last_inference: string;
  inference_count: string;
  execution_count: string;
  inference_stats: Record<string, StatisticDuration>;
  batch_stats: ({ batch_size: string } & Record<string, StatisticDuration | string>)[];
}

/** Every version's statistics of a model (every model's when name is ''). */
export async function modelStatistics(client: TritonTestClient, name: string, version = ''): Promise<ModelStatsMessage[]> {
  return (await client.unary<{ model_stats: ModelStatsMessage[] }>('ModelStatistics', { name, version }, { timeoutMs: 5_000 })).model_stats;
}

/** Totals over a model's versions: requests (inference_count), executions, failed requests. */
export interface StatsCounts {
  readonly inferences: number;
  readonly executions: number;
  readonly failures: number;
}

export async function statsCounts(client: TritonTestClient, name: string): Promise<StatsCounts> {
  const stats = await modelStatistics(client, name);
  return {
    inferences: stats.reduce((sum, entry) => sum + Number(entry.inference_count), 0),
    executions: stats.reduce((sum, entry) => sum + Number(entry.execution_count), 0),
    failures: stats.reduce((sum, entry) => sum + Number(entry.inference_stats['fail']?.count ?? 0), 0),
  };
}

export function countsDelta(before: StatsCounts, after: StatsCounts): StatsCounts {
  return { inferences: after.inferences - before.inferences, executions: after.executions - before.executions, failures: after.failures - before.failures };
}
