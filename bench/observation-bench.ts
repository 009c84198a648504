import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { InferenceAudit } from '../src/observability/inference-audit';
import { InferenceObservers, type InferenceObserver, type InferenceOutcome } from '../src/observability/inference-observer';
import { silentLogger } from '../src/observability/logger';
import { InferenceMetrics } from '../src/observability/metrics/inference-metrics';
import { LabelBounds } from '../src/observability/metrics/label-bounds';
import { TrafficRecorder } from '../src/observability/traffic/traffic-recorder';
import { closeRedisClient, createRedisClient, waitUntilReady } from '../src/redis/redis-client';
import { RedisKeys } from '../src/redis/redis-keys';
import { startRedisServer } from '../src/redis/redis-server-process';

const CALLS = Number(process.env['BENCH_CALLS'] ?? 200_000);
/** Calls between two flushes: about what a proxy at 4,000 calls/s sees in one 250 ms audit interval. */
const CALLS_PER_FLUSH = 1_000;
const ROUNDS = 5;

/**
 * What observing one inference call costs the front door's process: CPU per call of
 * each consumer of the inference outcome (Prometheus metrics, the dashboard's traffic
 * series, the inference audit stream) and of all three behind the fan-out, their
 * periodic writes to Redis included (a real embedded redis-server; its own CPU is not
 * counted: it is another process). Median of ROUNDS rounds of CALLS calls.
 */
export async function observationBenchmark(): Promise<void> {
  const directory = mkdtempSync(join(tmpdir(), 'triage-bench-observation-'));
  const server = await startRedisServer({ directory, appendOnly: false });
  const redis = createRedisClient({ url: server.url, name: 'bench', failFast: false });
  try {
    await waitUntilReady(redis, 10_000);
    const keys = new RedisKeys('bench:');
    const outcomes = sampleOutcomes();
    const metrics = (): InferenceObserver => new InferenceMetrics(new Registry(), new LabelBounds({ tenantLimit: 0, knowsModel: () => true }));
    const traffic = (): TrafficRecorder => new TrafficRecorder(redis, (step) => keys.traffic(step), 1_000, silentLogger());
    const audit = (): InferenceAudit => new InferenceAudit(redis, { streamKey: keys.inferenceAudit(), retentionMs: 3_600_000, maxEntries: 1_000_000, flushAt: Number.MAX_SAFE_INTEGER }, silentLogger());
    const rows: [string, number][] = [];
    for (const [name, make] of [
      ['metrics (prom-client)', () => ({ observer: metrics(), flush: async () => undefined })],
      ['traffic series', () => { const recorder = traffic(); return { observer: recorder, flush: () => recorder.flush() }; }],
      ['inference audit', () => { const stream = audit(); return { observer: stream, flush: () => stream.flush() }; }],
      ['all three (fan-out)', () => {
        const recorder = traffic();
        const stream = audit();
        const observers = new InferenceObservers();
        observers.add(metrics());
        observers.add(recorder);
        observers.add(stream);
        return { observer: observers, flush: async () => { await Promise.all([recorder.flush(), stream.flush()]); } };
      }],
    ] as const) {
      const perCall: number[] = [];
      for (let round = 0; round < ROUNDS + 1; round += 1) {
        const { observer, flush } = make();
        const before = process.cpuUsage();
        for (let call = 0; call < CALLS; call += 1) {
          observer.observe(outcomes[call % outcomes.length] as InferenceOutcome);
          if ((call + 1) % CALLS_PER_FLUSH === 0) await flush();
        }
        await flush();
        const used = process.cpuUsage(before);
        if (round > 0) perCall.push((used.user + used.system) / CALLS);
        await redis.del(keys.inferenceAudit());
      }
      perCall.sort((a, b) => a - b);
      rows.push([name, perCall[Math.floor(perCall.length / 2)] as number]);
    }
    process.stdout.write(`\n## observation: CPU per inference call of each consumer (${CALLS} calls, flush every ${CALLS_PER_FLUSH}, median of ${ROUNDS})\n\n`);
    process.stdout.write('| consumer | CPU us per call |\n|---|---|\n');
    for (const [name, micros] of rows) process.stdout.write(`| ${name} | ${micros.toFixed(2)} |\n`);
  } finally {
    await closeRedisClient(redis);
    await server.stop();
    rmSync(directory, { recursive: true, force: true });
  }
}

/** 64 outcomes as a busy front door sees them: several tenants and models, both protocols, some refusals. */
function sampleOutcomes(): InferenceOutcome[] {
  return Array.from({ length: 64 }, (_, index) => ({
    protocol: index % 4 === 0 ? 'http' : 'grpc',
    rpc: index % 4 === 0 ? 'infer' : 'ModelInfer',
    tenantId: `t_tenant${index % 8}`,
    keyId: `k_key${index % 8}`,
    model: ['simple', 'identity_fp32', 'breast_cancer_mlp'][index % 3] as string,
    version: '',
    requestId: `0b7c3a52-6f0e-4c8e-9d55-${String(index).padStart(12, '0')}`,
    code: index % 16 === 0 ? 'RESOURCE_EXHAUSTED' : 'OK',
    failed: index % 16 === 0,
    refusedBy: index % 16 === 0 ? 'requests_per_second' : null,
    latencyMs: 0.4 + (index % 10) * 0.3,
    upstreamMs: index % 16 === 0 ? null : 0.3 + (index % 10) * 0.25,
    instance: index % 16 === 0 ? null : `10.0.0.${1 + (index % 3)}:8001`,
    bytesIn: 160,
    bytesOut: 200,
    startedMs: Date.now(),
  }));
}
