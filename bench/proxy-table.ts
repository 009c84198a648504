import type { InferenceCounts } from './backend-statistics';
import type { H2loadResult } from './h2load';
import { percentile } from './load-loop';
import type { WindowFigures } from './request-window';

/** triage: a key whose tenant has no quotas (authentication only); triage+quotas: a key with quotas (one Redis round trip each). */
export type TargetName = 'direct' | 'triage' | 'triage+quotas' | 'nginx';

/** One h2load run against one target, with the CPU the processes used in its measured window. */
export interface Measurement {
  readonly target: TargetName;
  /** Requests that ended in the measured window. */
  readonly window: WindowFigures;
  /** h2load's counts over the whole run, warm-up included. */
  readonly h2load: Omit<H2loadResult, 'requests'>;
  readonly concurrency: number;
  /** Bytes of one correct answer (from the check before the runs). */
  readonly answerBytes: number;
  /** Requests of the scenario's model that local-triton answered with success / failure during the whole run. */
  readonly backend: InferenceCounts;
  readonly windowSeconds: number;
  /** CPU seconds of the proxy (triage, or nginx's master and worker) in the window; null for direct. */
  readonly proxyCpuSeconds: number | null;
  readonly backendCpuSeconds: number;
  readonly machineBusySeconds: number;
}

/** The runs of one scenario at one concurrency, one per target. */
export interface ScenarioRuns {
  readonly scenario: string;
  readonly concurrency: number;
  readonly runs: readonly Measurement[];
}

export const TABLE_HEADER = [
  '| scenario | concurrency | target | requests/s | p50 ms | p99 ms | req/s vs nginx | added p50 ms | proxy CPU us/request '
    + '| local-triton CPU us/request | cores busy: proxy / local-triton / machine | h2load succeeded / failed / errored |',
  '|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|',
];

export function p50Ms(run: Measurement): number {
  return percentile(run.window.latenciesUs, 50) / 1000;
}

export function runOf(runs: ScenarioRuns, target: TargetName): Measurement | undefined {
  return runs.runs.find((run) => run.target === target);
}

/** The table's rows of one scenario at one concurrency: direct, triage, nginx. */
export function tableRows(runs: ScenarioRuns): string[] {
  const direct = runOf(runs, 'direct');
  const nginx = runOf(runs, 'nginx');
  return runs.runs.map((run) => {
    const requests = Math.max(1, run.window.requests);
    const ms = (us: number): string => (Number.isNaN(us) ? '-' : (us / 1000).toFixed(2));
    const vsNginx = nginx === undefined ? '-' : (run.window.requestsPerSecond / nginx.window.requestsPerSecond).toFixed(2);
    const addedP50 = direct === undefined || run === direct ? '-' : (p50Ms(run) - p50Ms(direct)).toFixed(2);
    const perRequest = (seconds: number | null): string => (seconds === null ? '-' : ((seconds / requests) * 1e6).toFixed(0));
    const cores = (seconds: number | null): string => (seconds === null ? '-' : (seconds / run.windowSeconds).toFixed(2));
    const { succeeded, failed, errored } = run.h2load;
    return `| ${runs.scenario} | ${runs.concurrency} | ${run.target} | ${run.window.requestsPerSecond.toFixed(0)} `
      + `| ${ms(percentile(run.window.latenciesUs, 50))} | ${ms(percentile(run.window.latenciesUs, 99))} | ${vsNginx} | ${addedP50} `
      + `| ${perRequest(run.proxyCpuSeconds)} | ${perRequest(run.backendCpuSeconds)} `
      + `| ${cores(run.proxyCpuSeconds)} / ${cores(run.backendCpuSeconds)} / ${cores(run.machineBusySeconds)} `
      + `| ${succeeded} / ${failed} / ${errored}${grpcDoubts(run).map((doubt) => ` (${doubt})`).join('')} |`;
  });
}

/**
 * Why some of h2load's successes (HTTP 200s) may not be gRPC successes: a gRPC error is
 * an HTTP 200 with a grpc-status trailer and no message. Empty when every 200 was an
 * answer of local-triton's. Up to `concurrency` failures are the calls h2load cancels
 * when it stops.
 */
export function grpcDoubts(run: Measurement): string[] {
  const doubts: string[] = [];
  if (run.backend.fail > run.concurrency) doubts.push(`${run.backend.fail} failed in local-triton`);
  if (run.backend.success < run.h2load.succeeded) doubts.push(`local-triton answered only ${run.backend.success}: errors from the proxy`);
  if (run.h2load.receivedBytes < run.h2load.succeeded * run.answerBytes) doubts.push('fewer bytes received than answers: not all gRPC successes');
  return doubts;
}

/** Plain statements of whether triage meets issue 3's targets in these runs. */
export function targetVerdict(all: readonly ScenarioRuns[]): string[] {
  const lines: string[] = [];
  for (const runs of all) {
    const triage = runOf(runs, 'triage');
    const nginx = runOf(runs, 'nginx');
    const direct = runOf(runs, 'direct');
    if (triage === undefined || nginx === undefined || direct === undefined) continue;
    const ratio = triage.window.requestsPerSecond / nginx.window.requestsPerSecond;
    const parts = [`triage/nginx throughput ${ratio.toFixed(2)} (target >= 0.90: ${ratio >= 0.9 ? 'met' : 'NOT met'})`];
    if (runs.concurrency === 1) {
      const added = p50Ms(triage) - p50Ms(direct);
      parts.push(`triage added p50 ${added.toFixed(2)} ms (target <= 0.30 ms: ${added <= 0.3 ? 'met' : 'NOT met'})`);
    }
    lines.push(`- ${runs.scenario}, concurrency ${runs.concurrency}: ${parts.join('; ')}`);
    const quotas = runOf(runs, 'triage+quotas');
    if (quotas !== undefined) {
      const quotaRatio = quotas.window.requestsPerSecond / triage.window.requestsPerSecond;
      lines.push(`  with auth and quotas: ${quotaRatio.toFixed(2)}x triage without quotas (target >= 0.85: ${quotaRatio >= 0.85 ? 'met' : 'NOT met'})`);
    }
  }
  return lines;
}
