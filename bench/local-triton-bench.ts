import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { projectRoot } from '../src/protocol/project-paths';
import { TritonClient } from '../src/triton/triton-client';
import { percentile, runClosedLoop, type LoadResult } from './load-loop';
import { startLocalTritonProcess } from './local-triton-process';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);

interface Holdout {
  cases: { features: number[]; label: number }[];
}

/**
 * local-triton's throughput and latency, side by side in one run on one machine:
 * `simple` at concurrency 1, 16 and 64; breast_cancer_mlp rows/s with one row per request
 * (no batching), 64 rows per request, and one row per request merged by dynamic batching.
 */
export async function localTritonBenchmark(): Promise<void> {
  const repository = mkdtempSync(join(tmpdir(), 'triage-bench-'));
  const samples = join(projectRoot(), 'model-repository');
  cpSync(join(samples, 'simple'), join(repository, 'simple'), { recursive: true });
  cpSync(join(samples, 'breast_cancer_mlp'), join(repository, 'breast_cancer_mlp'), { recursive: true });
  cpSync(join(samples, 'breast_cancer_mlp'), join(repository, 'breast_cancer_mlp_unbatched'), { recursive: true });
  const config = readFileSync(join(samples, 'breast_cancer_mlp', 'config.pbtxt'), 'utf8');
  writeFileSync(join(repository, 'breast_cancer_mlp_unbatched', 'config.pbtxt'),
    config.replace('name: "breast_cancer_mlp"', 'name: "breast_cancer_mlp_unbatched"').replace(/dynamic_batching \{[^}]*\}\n/, ''));

  const server = await startLocalTritonProcess(repository);
  const client = new TritonClient(`127.0.0.1:${server.port}`, { maxMessageBytes: 64 * 1024 * 1024 });
  try {
    const rows: string[] = [];
    const simpleRequest = {
      model_name: 'simple',
      inputs: ['INPUT0', 'INPUT1'].map((name) => ({ name, datatype: 'INT32', shape: [1, 16] })),
      raw_input_contents: [Buffer.from(new Int32Array(16).fill(7).buffer), Buffer.from(new Int32Array(16).fill(3).buffer)],
    };
    for (const concurrency of [1, 16, 64]) {
      const result = await runClosedLoop(() => client.unary('ModelInfer', simpleRequest), concurrency, SECONDS);
      rows.push(row(`simple, 1 row/request, concurrency ${concurrency}`, result, 1));
    }

    const holdout = JSON.parse(readFileSync(join(projectRoot(), 'test', 'fixtures', 'breast-cancer-holdout.json'), 'utf8')) as Holdout;
    const features = (count: number, offset: number): Buffer => {
      const values: number[] = [];
      for (let i = 0; i < count; i++) values.push(...(holdout.cases[(offset + i) % holdout.cases.length]?.features ?? []));
      return Buffer.from(new Float32Array(values).buffer);
    };
    const request = (model: string, batch: number) => {
      let offset = 0;
      return () => client.unary('ModelInfer', {
        model_name: model,
        inputs: [{ name: 'features', datatype: 'FP32', shape: [batch, 30] }],
        raw_input_contents: [features(batch, offset++)],
      });
    };
    const scenarios: [string, string, number, number][] = [
      ['breast_cancer_mlp, 1 row/request, no batching, concurrency 16', 'breast_cancer_mlp_unbatched', 1, 16],
      ['breast_cancer_mlp, 64 rows/request, concurrency 4', 'breast_cancer_mlp_unbatched', 64, 4],
      ['breast_cancer_mlp, 1 row/request, dynamic batching, concurrency 64', 'breast_cancer_mlp', 1, 64],
    ];
    for (const [label, model, batch, concurrency] of scenarios) {
      const before = await executions(client, model);
      const result = await runClosedLoop(request(model, batch), concurrency, SECONDS);
      const after = await executions(client, model);
      const averageBatch = (after.inferences - before.inferences) / Math.max(1, after.executions - before.executions);
      rows.push(row(label, result, batch, averageBatch));
    }
    process.stdout.write([
      `local-triton benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Node ${process.versions.node}, ${SECONDS} s per scenario after 3 s warm-up,`,
      'server and load generator in separate processes on loopback.',
      '',
      '| scenario | requests/s | rows/s | p50 ms | p99 ms | mean rows per execution | errors |',
      '|---|---:|---:|---:|---:|---:|---:|',
      ...rows,
      '',
    ].join('\n'));
  } finally {
    client.close();
    await server.stop();
    rmSync(repository, { recursive: true, force: true });
  }
}

async function executions(client: TritonClient, model: string): Promise<{ executions: number; inferences: number }> {
  const stats = await client.unary<{ model_stats: { execution_count: string; inference_count: string }[] }>('ModelStatistics', { name: model, version: '' });
  const first = stats.model_stats[0];
  return { executions: Number(first?.execution_count ?? 0), inferences: Number(first?.inference_count ?? 0) };
}

function row(label: string, result: LoadResult, rowsPerRequest: number, averageBatch?: number): string {
  const rps = result.requests / result.seconds;
  return `| ${label} | ${rps.toFixed(0)} | ${(rps * rowsPerRequest).toFixed(0)} | ${percentile(result.latenciesMs, 50).toFixed(2)} | `
    + `${percentile(result.latenciesMs, 99).toFixed(2)} | ${averageBatch === undefined ? '-' : averageBatch.toFixed(1)} | ${result.errors} |`;
}
