import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { projectRoot } from '../src/protocol/project-paths';
import { TritonClient } from '../src/triton/triton-client';
import { TRIAGE_VERSION } from '../src/version';
import { inferenceCounts } from './backend-statistics';
import { modelInferBody } from './grpc-frame';
import { runH2load, type H2loadResult, type H2loadRun } from './h2load';
import { requestsEndingIn } from './request-window';
import { startNginxGrpcProxy } from './nginx-process';
import { machineBusySeconds, processCpuSeconds } from './process-cpu';
import { IDENTITY_1MIB_SCENARIO, SIMPLE_SCENARIO, type ProxyScenario } from './proxy-scenarios';
import { TABLE_HEADER, tableRows, targetVerdict, type Measurement, type ScenarioRuns, type TargetName } from './proxy-table';
import { requireTool } from './required-tool';
import { checkTarget, GRPC_REQUEST_HEADERS, MODEL_INFER_PATH } from './target-check';
import { startTriageProcess } from './triage-process';
import { benchTenants } from './bench-tenants';
import { randomText } from '../src/tenancy/api-key-format';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
/** The unmeasured start of each run, on the same connections: every connection has its request in flight when measuring starts. */
const WARMUP_SECONDS = 2;
/** The unmeasured end of each run: h2load stops after the window has closed. */
const TAIL_SECONDS = 0.5;
/** Before a target's first run of a scenario, at concurrency 16: JIT and buffers warm. */
const FIRST_WARMUP_SECONDS = 3;
/** BENCH_ROUNDS: runs per target and concurrency, the targets taken in turn; the table shows each target's median run. */
const ROUNDS = Math.max(1, Number(process.env['BENCH_ROUNDS'] ?? 1));
/** BENCH_CONCURRENCIES (e.g. `1,64`) and BENCH_SCENARIOS (`simple`, `identity`) narrow a run; the defaults are the full table. */
const CONCURRENCIES = (process.env['BENCH_CONCURRENCIES'] ?? '1,16,64').split(',').map(Number);
const SCENARIOS: readonly ProxyScenario[] = [SIMPLE_SCENARIO, IDENTITY_1MIB_SCENARIO]
  .filter((scenario) => (process.env['BENCH_SCENARIOS'] ?? 'simple,identity').split(',').some((name) => scenario.label.startsWith(name)));

interface Target {
  readonly name: TargetName;
  readonly port: number;
  /** API key sent as `authorization: Bearer`, or null. */
  readonly apiKey: string | null;
  /** Processes whose CPU time is the proxy's; empty for direct. */
  readonly proxyPids: readonly number[];
}

/**
 * The gateway's overhead, side by side in one run with one load generator (h2load, unary
 * gRPC over h2c) and one backend (`triage local-triton`): direct to local-triton, through
 * `triage serve`, and through nginx's grpc_pass; `simple` and a 1 MiB FP32 identity
 * tensor at concurrency 1, 16 and 64. Concurrency C is C connections with one request
 * in flight each (h2load -c C -m 1), as C independent clients.
 */
export async function proxyBenchmark(): Promise<void> {
  const h2loadVersion = requireTool('h2load', ['--version'], 'install it with `apt-get install nghttp2-client` (Debian/Ubuntu)');
  const nginxVersion = requireTool('nginx', ['-v'], 'install it with `apt-get install nginx-light` (Debian/Ubuntu; the `nginx` package works too)');
  const workDirectory = mkdtempSync(join(tmpdir(), 'triage-bench-proxy-'));
  const removeWorkDirectory = (): void => rmSync(workDirectory, { recursive: true, force: true });
  const stops: (() => Promise<void>)[] = [];
  const exitOnSignal = (): void => process.exit(1); // 'exit' stops the children (see ownChild) and removes the temp folders
  process.once('SIGINT', exitOnSignal).once('SIGTERM', exitOnSignal).once('exit', removeWorkDirectory);
  try {
    const localTriton = await startTriageProcess(['local-triton', '--model-repository', join(projectRoot(), 'model-repository'),
      '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '-1', '--log-level', 'warn'], /gRPC on [^\s]*:(\d+)/);
    stops.push(localTriton.stop);
    const backendPort = Number(localTriton.ready[1]);
    const backend: Backend = { pid: localTriton.pid, client: new TritonClient(`127.0.0.1:${backendPort}`, { maxMessageBytes: 4 * 1024 * 1024 }) };
    stops.push(async () => backend.client.close());
    const adminKey = `bench-admin-${randomText(40)}`;
    const triage = await startTriageProcess(['serve', '--triton-urls', `127.0.0.1:${backendPort}`, '--grpc-port', '0', '--http-port', '0',
      '--listen-address', '127.0.0.1', '--log-level', 'warn', '--data-dir', join(workDirectory, 'data'), '--admin-key', adminKey],
    /triage ready: gRPC on [^\s,]*:(\d+)[\s\S]*redis: embedded redis-server on port (\d+)/);
    stops.push(triage.stop);
    const tenants = await benchTenants(`redis://127.0.0.1:${triage.ready[2]}`, adminKey);
    stops.push(tenants.stop);
    const nginx = await startNginxGrpcProxy(backendPort);
    stops.push(nginx.stop);
    const targets: Target[] = [
      { name: 'direct', port: backendPort, apiKey: null, proxyPids: [] },
      { name: 'triage', port: Number(triage.ready[1]), apiKey: tenants.plainKey, proxyPids: [triage.pid] },
      { name: 'triage+quotas', port: Number(triage.ready[1]), apiKey: tenants.quotaKey, proxyPids: [triage.pid] },
      { name: 'nginx', port: nginx.port, apiKey: null, proxyPids: nginx.pids },
    ];

    const bodyPath = join(workDirectory, 'body.bin');
    const roundTrips: { label: string; calls: number; requests: number }[] = [];
    const all: ScenarioRuns[] = [];
    for (const scenario of SCENARIOS) {
      const body = modelInferBody(scenario.request);
      writeFileSync(bodyPath, body);
      const answerBytes = new Map<TargetName, number>();
      for (const target of targets) answerBytes.set(target.name, await checkTarget(target.port, scenario, body, target.apiKey));
      for (const target of targets) await load(target, bodyPath, 16, FIRST_WARMUP_SECONDS);
      for (const concurrency of CONCURRENCIES) {
        // Rounds take the targets in turn, so a slow spell of the machine falls on all of them.
        const rounds = new Map<TargetName, Measurement[]>(targets.map((target) => [target.name, []]));
        // Script calls in the runs with quotas, less those in the runs without (just before, as long):
        // the latter are the process's own background scripts (leader lease, job dispatch, audit, traffic).
        const calls = { withQuotas: 0, without: 0, requests: 0 };
        for (let round = 0; round < ROUNDS; round++) {
          for (const target of targets) {
            const counted = target.name === 'triage+quotas' || target.name === 'triage';
            const before = counted ? await tenants.scriptCalls() : 0;
            const run = await measure(target, backend, scenario, bodyPath, concurrency, answerBytes.get(target.name) ?? 0, join(workDirectory, 'requests.log'));
            const scripts = counted ? (await tenants.scriptCalls()) - before : 0;
            if (target.name === 'triage') calls.without += scripts;
            if (target.name === 'triage+quotas') {
              calls.withQuotas += scripts;
              calls.requests += run.h2load.succeeded + run.h2load.failed;
            }
            rounds.get(target.name)?.push(run);
          }
        }
        roundTrips.push({ label: `${scenario.label}, concurrency ${concurrency}`, calls: Math.max(0, calls.withQuotas - calls.without), requests: calls.requests });
        all.push({ scenario: scenario.label, concurrency, runs: targets.map((target) => medianRun(rounds.get(target.name) ?? [])) });
        process.stderr.write(`proxy bench: ${scenario.label}, concurrency ${concurrency} done\n`);
      }
    }
    const nginxErrors = nginx.errorLog().trim();
    process.stdout.write([
      `proxy benchmark: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Linux ${release()}, Node ${process.versions.node}, `
        + `triage ${TRIAGE_VERSION}, ${nginxVersion.replace(/^nginx version: /, '')}, ${h2loadVersion}.`,
      `Command: npm run bench -- proxy. Load: h2load -c <concurrency> -m 1 -t 1 (one connection per concurrent request) for `
        + `${WARMUP_SECONDS + SECONDS + TAIL_SECONDS} s per run${ROUNDS > 1 ? `, ${ROUNDS} rounds taking the targets in turn, each row the target's median run by requests/s` : ''}; measured: the requests that end in a ${SECONDS} s window after ${WARMUP_SECONDS} s of warm-up, `
        + 'and CPU in that window; h2load\'s counts cover the whole run. Backend: one `triage local-triton` process; all on loopback.',
      '',
      ...TABLE_HEADER,
      ...all.flatMap(tableRows),
      '',
      'Targets of issue 3 (and issue 4, with auth and quotas) in this run:',
      ...targetVerdict(all),
      '',
      'Admission round trips to Redis with quotas (script calls per request over whole runs, less the script calls of the runs without quotas, which are the process\'s background scripts):',
      ...roundTrips.map((entry) => `- ${entry.label}: ${(entry.calls / Math.max(1, entry.requests)).toFixed(3)} (${entry.calls} calls, ${entry.requests} requests)`),
      ...(nginxErrors === '' ? [] : ['', `nginx's error log:`, nginxErrors]),
      '',
    ].join('\n'));
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => process.stderr.write(`proxy bench: stopping: ${String(error)}\n`));
    removeWorkDirectory();
    process.removeListener('SIGINT', exitOnSignal).removeListener('SIGTERM', exitOnSignal).removeListener('exit', removeWorkDirectory);
  }
}

/** The run with the median requests/s (the upper one of an even count). */
function medianRun(runs: readonly Measurement[]): Measurement {
  const sorted = [...runs].sort((a, b) => a.window.requestsPerSecond - b.window.requestsPerSecond);
  const median = sorted[Math.floor(sorted.length / 2)];
  if (median === undefined) throw new Error('no run to take the median of');
  return median;
}

interface Counters {
  /** Microseconds since the epoch (the clock of h2load's log). */
  readonly atUs: number;
  readonly proxy: number;
  readonly backend: number;
  readonly machine: number;
}

function readCounters(target: Target, backendPid: number): Counters {
  return {
    atUs: (performance.timeOrigin + performance.now()) * 1000,
    proxy: processCpuSeconds(target.proxyPids),
    backend: processCpuSeconds([backendPid]),
    machine: machineBusySeconds(),
  };
}

function load(target: Target, bodyPath: string, concurrency: number, seconds: number, extra: Pick<H2loadRun, 'logPath' | 'onStart'> = {}): Promise<H2loadResult> {
  const headers = target.apiKey === null ? GRPC_REQUEST_HEADERS : [...GRPC_REQUEST_HEADERS, `authorization: Bearer ${target.apiKey}`];
  return runH2load({
    url: `http://127.0.0.1:${target.port}${MODEL_INFER_PATH}`, bodyPath, headers,
    connections: concurrency, streamsPerConnection: 1, seconds, ...extra,
  });
}

interface Backend {
  readonly pid: number;
  /** A client of local-triton itself, for its statistics. */
  readonly client: TritonClient;
}

/**
 * One run of h2load: WARMUP_SECONDS, then the measured window of SECONDS (requests that
 * end in it; CPU counters read at its edges), then a short tail that is not measured, so
 * the window closes while every connection still has its request in flight.
 */
async function measure(target: Target, backend: Backend, scenario: ProxyScenario, bodyPath: string, concurrency: number, answerBytes: number,
  logPath: string): Promise<Measurement> {
  const countsBefore = await inferenceCounts(backend.client, scenario.model);
  const edges: Counters[] = [];
  const timers: NodeJS.Timeout[] = [];
  const h2load = await load(target, bodyPath, concurrency, WARMUP_SECONDS + SECONDS + TAIL_SECONDS, {
    logPath,
    onStart: () => {
      for (const at of [WARMUP_SECONDS, WARMUP_SECONDS + SECONDS]) timers.push(setTimeout(() => edges.push(readCounters(target, backend.pid)), at * 1000));
    },
  }).finally(() => timers.forEach(clearTimeout));
  const countsAfter = await inferenceCounts(backend.client, scenario.model);
  const [start, end] = edges;
  if (start === undefined || end === undefined) throw new Error('h2load ended before the measured window did');
  const { requests, ...counts } = h2load;
  return {
    target: target.name,
    window: requestsEndingIn(requests, start.atUs, end.atUs),
    h2load: counts,
    concurrency,
    answerBytes,
    backend: { success: countsAfter.success - countsBefore.success, fail: countsAfter.fail - countsBefore.fail },
    windowSeconds: (end.atUs - start.atUs) / 1e6,
    proxyCpuSeconds: target.proxyPids.length === 0 ? null : end.proxy - start.proxy,
    backendCpuSeconds: end.backend - start.backend,
    machineBusySeconds: end.machine - start.machine,
  };
}
