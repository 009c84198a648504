import { performance } from 'node:perf_hooks';
import { loadSignature } from '../src/controller/load-signature';
import { modelFootprint } from '../src/controller/model-footprint';
import { planPlacement, type PlacementInput, type PolicyInstance, type PolicyModel } from '../src/controller/placement-policy';
import { servedVersions } from '../src/controller/served-versions';
import type { ModelRecord } from '../src/registry/model-record';

const MODELS = 500;
const INSTANCES = 10;
const RUNS = Number(process.env['BENCH_RUNS'] ?? 51);
const GiB = 1024 ** 3;

/**
 * The deployment controller's CPU per reconcile pass, for 500 models on 10 instances:
 * the placement policy from nothing (every model to place), on a converged cluster (every
 * placement kept), with tight memory budgets, and the per-model preparation a pass does
 * (served versions, footprint, load signature) for all 500 records. Median and p90 of
 * BENCH_RUNS runs (default 51) after 5 warm-up runs; pure CPU, no I/O.
 */
export async function controllerBenchmark(): Promise<void> {
  const records = Array.from({ length: MODELS }, (_, index) => benchRecord(index));
  const models: PolicyModel[] = records.map((record) => ({
    name: record.name,
    replicas: record.deployment?.replicas ?? 0,
    instanceLabels: record.deployment?.instance_labels ?? null,
    footprintBytes: modelFootprint(record),
  }));
  const instances = (holds: (address: string) => string[], budgetBytes: number | null): PolicyInstance[] => Array.from({ length: INSTANCES }, (_, index) => {
    const address = `10.0.0.${index + 1}:8001`;
    return { address, labels: { gpu: index % 2 === 0 ? 'a100' : 't4', zone: index < 5 ? 'eu' : 'us' }, memoryBudgetBytes: budgetBytes, holds: new Set(holds(address)) };
  });
  const empty: PlacementInput = { models, instances: instances(() => [], null), unmanagedFootprints: new Map() };
  const first = planPlacement(empty);
  const heldBy = (address: string): string[] => models.filter((model) => first.assignments.get(model.name)?.includes(address)).map((model) => model.name);
  const converged: PlacementInput = { models, instances: instances(heldBy, null), unmanagedFootprints: new Map() };
  // Budgets at 60% of what the unconstrained plan puts on the busiest instance: many replicas do not fit.
  const busiest = Math.max(...first.committedBytes.values());
  const tight: PlacementInput = { models, instances: instances(() => [], Math.floor(busiest * 0.6)), unmanagedFootprints: new Map() };

  const rows = [
    measure('plan, nothing placed yet', () => planPlacement(empty), (plan) => `${placedReplicas(plan.assignments)} replicas, ${plan.unplaced.length} unplaced`),
    measure('plan, converged (every placement kept)', () => planPlacement(converged), (plan) => `${placedReplicas(plan.assignments)} replicas, ${plan.unplaced.length} unplaced`),
    measure('plan, budgets at 60% of the busiest instance', () => planPlacement(tight), (plan) => `${placedReplicas(plan.assignments)} replicas, ${plan.unplaced.length} unplaced`),
    measure('per-model preparation (served versions, footprint, load signature)', () => records.map((record) => loadSignature(record, servedVersions(record)) + modelFootprint(record)), () => `${MODELS} records`),
  ];
  process.stdout.write(`\n### controller: ${MODELS} models on ${INSTANCES} instances (median of ${RUNS} runs)\n\n`
    + '| step | median ms | p90 ms | result |\n|---|---:|---:|---|\n'
    + rows.join('\n') + '\n');
}

function measure<T>(name: string, work: () => T, describe: (result: T) => string): string {
  for (let warmup = 0; warmup < 5; warmup++) work();
  const times: number[] = [];
  let result = work();
  for (let run = 0; run < RUNS; run++) {
    const started = performance.now();
    result = work();
    times.push(performance.now() - started);
  }
  times.sort((a, b) => a - b);
  const at = (fraction: number): string => (times[Math.min(times.length - 1, Math.floor(fraction * times.length))] ?? 0).toFixed(2);
  return `| ${name} | ${at(0.5)} | ${at(0.9)} | ${describe(result)} |`;
}

function placedReplicas(assignments: ReadonlyMap<string, readonly string[]>): number {
  let count = 0;
  for (const addresses of assignments.values()) count += addresses.length;
  return count;
}

/** A registry record as the controller reads it: 1 to 3 versions, replicas 1-3 or all, some with labels. */
function benchRecord(index: number): ModelRecord {
  const versions = Array.from({ length: 1 + (index % 3) }, (_, v) => ({
    version: String(v + 1),
    size_bytes: ((index * 7919) % 4000 + 100) * 1024 * 1024,
    sha256: `${index}-${v}`.padEnd(64, '0'),
    files: 1,
    created_at: '2026-01-01T00:00:00Z',
  }));
  const replicas = index % 10 === 0 ? 'all' as const : 1 + (index % 3);
  return {
    name: `model_${String(index).padStart(3, '0')}`,
    platform: 'onnxruntime_onnx',
    backend: 'onnxruntime',
    max_batch_size: 8,
    config: {
      name: `model_${index}`,
      platform: 'onnxruntime_onnx',
      max_batch_size: 8,
      input: [{ name: 'INPUT0', data_type: 'TYPE_FP32', dims: ['3', '224', '224'] }],
      output: [{ name: 'OUTPUT0', data_type: 'TYPE_FP32', dims: ['1000'] }],
      instance_group: [{ count: 1, kind: 'KIND_GPU' }],
      dynamic_batching: { max_queue_delay_microseconds: '100' },
    },
    versions,
    owner: { tenant_id: 'admin', key_id: 'bench' },
    footprint_bytes: index % 4 === 0 ? 2 * GiB : null,
    deployment: {
      replicas,
      instance_labels: index % 5 === 0 ? { gpu: 'a100' } : index % 7 === 0 ? { zone: 'eu' } : null,
      version_policy: index % 6 === 0 ? { latest: { num_versions: 2 } } : null,
      updated_at: '2026-01-01T00:00:00Z',
    },
    created_at: '2026-01-01T00:00:00Z',
    updated_at: '2026-01-01T00:00:00Z',
    revision: 1,
  };
}
