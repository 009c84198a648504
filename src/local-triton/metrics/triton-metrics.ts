import { freemem, totalmem } from 'node:os';
import type { LoadedModelVersion } from '../models/loaded-model-version';
import type { FailureReason } from '../statistics/model-statistics';

interface Family {
  readonly name: string;
  readonly type: 'counter' | 'gauge';
  readonly help: string;
  readonly samples: string[];
}

const FAILURE_REASONS: readonly FailureReason[] = ['REJECTED', 'CANCELED', 'BACKEND', 'OTHER'];

/**
 * Prometheus text in Triton's names and labels (model, version), computed from the
 * same statistics the ModelStatistics RPC reports, so the two never disagree.
 * Latencies are cumulative microsecond counters, as Triton's.
 */
export function renderTritonMetrics(versions: readonly LoadedModelVersion[]): string {
  const family = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });
  const success = family('nv_inference_request_success', 'counter', 'Number of successful inference requests, all batch sizes');
  const failure = family('nv_inference_request_failure', 'counter', 'Number of failed inference requests, all batch sizes');
  const count = family('nv_inference_count', 'counter', 'Number of inferences performed (does not include cached requests)');
  const execCount = family('nv_inference_exec_count', 'counter', 'Number of model executions performed (does not include cached requests)');
  const requestUs = family('nv_inference_request_duration_us', 'counter', 'Cumulative inference request duration in microseconds (includes cached requests)');
  const queueUs = family('nv_inference_queue_duration_us', 'counter', 'Cumulative inference queuing duration in microseconds (includes cached requests)');
  const inputUs = family('nv_inference_compute_input_duration_us', 'counter', 'Cumulative compute input duration in microseconds (does not include cached requests)');
  const inferUs = family('nv_inference_compute_infer_duration_us', 'counter', 'Cumulative compute inference duration in microseconds (does not include cached requests)');
  const outputUs = family('nv_inference_compute_output_duration_us', 'counter', 'Cumulative inference compute output duration in microseconds (does not include cached requests)');
  const pending = family('nv_inference_pending_request_count', 'gauge', 'Instantaneous number of pending requests awaiting execution per-model.');

  for (const version of versions) {
    const labels = `model="${escapeLabel(version.spec.name)}",version="${version.version}"`;
    const stats = version.statistics;
    success.samples.push(`{${labels}} ${stats.success.count}`);
    for (const reason of FAILURE_REASONS) failure.samples.push(`{${labels},reason="${reason}"} ${stats.failuresByReason.get(reason) ?? 0}`);
    count.samples.push(`{${labels}} ${stats.inferenceCount}`);
    execCount.samples.push(`{${labels}} ${stats.executionCount}`);
    // As Triton: only successful requests add their duration (failures count in nv_inference_request_failure).
    requestUs.samples.push(`{${labels}} ${microseconds(stats.success.ns)}`);
    queueUs.samples.push(`{${labels}} ${microseconds(stats.queue.ns)}`);
    inputUs.samples.push(`{${labels}} ${microseconds(stats.computeInput.ns)}`);
    inferUs.samples.push(`{${labels}} ${microseconds(stats.computeInfer.ns)}`);
    outputUs.samples.push(`{${labels}} ${microseconds(stats.computeOutput.ns)}`);
    pending.samples.push(`{${labels}} ${version.scheduler.queuedCount}`);
  }

  const memoryTotal = family('nv_cpu_memory_total_bytes', 'gauge', 'CPU total memory (RAM), in bytes');
  const memoryUsed = family('nv_cpu_memory_used_bytes', 'gauge', 'CPU used memory (RAM), in bytes');
  memoryTotal.samples.push(` ${totalmem()}`);
  memoryUsed.samples.push(` ${totalmem() - freemem()}`);

  return [success, failure, count, execCount, requestUs, queueUs, inputUs, inferUs, outputUs, pending, memoryTotal, memoryUsed]
    .map((f) => [`# HELP ${f.name} ${f.help}`, `# TYPE ${f.name} ${f.type}`, ...f.samples.map((sample) => `${f.name}${sample}`)].join('\n'))
    .join('\n') + '\n';
}

function microseconds(ns: bigint): string {
  return (ns / 1000n).toString();
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}
