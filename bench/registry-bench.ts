import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, release, tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { randomText } from '../src/tenancy/api-key-format';
import { TritonClient } from '../src/triton/triton-client';
import { TRIAGE_VERSION } from '../src/version';
import { gatherModel, gatherModelConfig, GATHER_COLUMNS } from './gather-model';
import { pushStepEstimates, type StepEstimates } from './push-step-estimates';
import { baselineRound, removeBaselineModel, removeTriageModel, triageRound, type BaselineRound, type RegistrySetup, type TriageRound } from './registry-rounds';
import { summarize, summaryText } from './sample-summary';
import { startTriageProcess } from './triage-process';

const ROUNDS = Number(process.env['BENCH_RUNS'] ?? 5);
/** 3,125,000 rows x 4 floats = 12.5 M floats = 50,000,000 bytes of weights. */
const ROWS = 3_125_000;
const CONTROLLER_TICK_MS = 100;

/**
 * Issue 5's "push + deploy of a 50 MB model to READY", on loopback, side by side in one
 * run with the way an admin does it without triage. One `triage local-triton` (explicit
 * model control) on an empty repository R, one `triage serve` managing R with its embedded
 * Redis. Each round pushes a fresh model through triage (POST /v1/models of the streamed
 * .tar.gz, POST /deploy, GET every 20 ms until READY, then an inference through triage
 * checked value by value) and loads another by hand (cp -r into R, RepositoryModelLoad,
 * ModelReady, an inference checked the same way); the order alternates between rounds.
 * One unmeasured round of each first. Cleanup between rounds is not timed.
 */
export async function registryBenchmark(): Promise<void> {
  const workDirectory = mkdtempSync(join(tmpdir(), 'triage-bench-registry-'));
  const removeWorkDirectory = (): void => rmSync(workDirectory, { recursive: true, force: true });
  const stops: (() => Promise<void>)[] = [];
  const exitOnSignal = (): void => process.exit(1); // 'exit' stops the children (see ownChild) and removes the temp folder
  process.once('SIGINT', exitOnSignal).once('SIGTERM', exitOnSignal).once('exit', removeWorkDirectory);
  const loadBefore = loadavg()[0] ?? 0;
  try {
    const repository = join(workDirectory, 'repository');
    const sources = join(workDirectory, 'sources');
    mkdirSync(repository);
    mkdirSync(sources);
    const generationStarted = performance.now();
    const model = gatherModel(ROWS);
    const onnxPath = join(workDirectory, 'model.onnx');
    writeFileSync(onnxPath, model.onnx);
    const generationMs = performance.now() - generationStarted;

    const localTriton = await startTriageProcess(['local-triton', '--model-repository', repository, '--model-control-mode', 'explicit',
      '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '-1', '--log-level', 'warn'], /gRPC on [^\s]*:(\d+)/);
    stops.push(localTriton.stop);
    const instance = `127.0.0.1:${localTriton.ready[1] ?? ''}`;
    const client = new TritonClient(instance, { maxMessageBytes: 64 * 1024 * 1024 });
    stops.push(async () => client.close());
    const adminKey = `bench-admin-${randomText(40)}`;
    const triage = await startTriageProcess(['serve', '--triton-urls', instance, '--model-repository', repository,
      '--grpc-port', '0', '--http-port', '0', '--listen-address', '127.0.0.1', '--log-level', 'warn',
      '--data-dir', join(workDirectory, 'data'), '--admin-key', adminKey, '--controller-tick', String(CONTROLLER_TICK_MS)],
    /triage ready: gRPC on [^\s,]*:\d+, HTTP on [^\s,]*:(\d+)[\s\S]*redis: embedded redis-server/);
    stops.push(triage.stop);
    const setup: RegistrySetup = {
      httpBase: `http://127.0.0.1:${triage.ready[1] ?? ''}`, adminKey, triagePid: triage.pid, instance,
      localTritonPid: localTriton.pid, localTriton: client, repository, sources, onnxPath, model,
    };

    await triageRound(setup, 'bench_warmup_triage');
    await removeTriageModel(setup, 'bench_warmup_triage');
    await baselineRound(setup, 'bench_warmup_baseline');
    await removeBaselineModel(setup, 'bench_warmup_baseline');
    const triageRounds: TriageRound[] = [];
    const baselineRounds: BaselineRound[] = [];
    const estimates: StepEstimates[] = [];
    for (let round = 1; round <= ROUNDS; round++) {
      const viaTriage = async (): Promise<void> => {
        triageRounds.push(await triageRound(setup, `bench_triage_${round}`));
        await removeTriageModel(setup, `bench_triage_${round}`);
      };
      const byHand = async (): Promise<void> => {
        baselineRounds.push(await baselineRound(setup, `bench_baseline_${round}`));
        await removeBaselineModel(setup, `bench_baseline_${round}`);
      };
      if (round % 2 === 1) await viaTriage().then(byHand);
      else await byHand().then(viaTriage);
      estimates.push(await pushStepEstimates(setup, `bench_steps_${round}`));
      process.stderr.write(`registry bench: round ${round} of ${ROUNDS} done\n`);
    }
    const folderBytes = model.onnx.length + Buffer.byteLength(gatherModelConfig('bench_triage_1'));
    process.stdout.write(report({ loadBefore, generationMs, onnxBytes: model.onnx.length, folderBytes, triageRounds, baselineRounds, estimates }));
  } finally {
    for (const stop of stops.reverse()) await stop().catch((error: unknown) => process.stderr.write(`registry bench: stopping: ${String(error)}\n`));
    removeWorkDirectory();
    process.removeListener('SIGINT', exitOnSignal).removeListener('SIGTERM', exitOnSignal).removeListener('exit', removeWorkDirectory);
  }
}

interface ReportInput {
  /** 1-minute load average when the run started (other processes on the machine). */
  readonly loadBefore: number;
  readonly generationMs: number;
  readonly onnxBytes: number;
  readonly folderBytes: number;
  readonly triageRounds: readonly TriageRound[];
  readonly baselineRounds: readonly BaselineRound[];
  readonly estimates: readonly StepEstimates[];
}

function report(input: ReportInput): string {
  const t = <K extends keyof TriageRound>(key: K): number[] => input.triageRounds.map((round) => round[key] as number);
  const b = <K extends keyof BaselineRound>(key: K): number[] => input.baselineRounds.map((round) => round[key] as number);
  const e = <K extends keyof StepEstimates>(key: K): number[] => input.estimates.map((round) => round[key]);
  const triageTotal = input.triageRounds.map((round) => round.registeredMs + round.deployToReadyMs);
  const baselineTotal = input.baselineRounds.map((round) => round.copyMs + round.loadMs);
  const pair = (what: string, triage: number[], baseline: number[]): string => {
    const [ts, bs] = [summarize(triage), summarize(baseline)];
    return `| ${what} | ${summaryText(ts)} | ${summaryText(bs)} | ${(ts.median / bs.median).toFixed(1)} |`;
  };
  const row = (what: string, values: number[], how: string): string => `| ${what} | ${summaryText(summarize(values))} | ${how} |`;
  const archiveBytes = summarize(t('archiveBytes')).median;
  const mb = (bytes: number): string => (bytes / 1e6).toFixed(1);
  return [
    '',
    `### registry: push + deploy of a ${mb(input.onnxBytes)} MB model to READY (${ROUNDS} rounds; ms, median (min-max))`,
    '',
    `Machine: ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown CPU'}), Linux ${release()}, Node ${process.versions.node}, triage ${TRIAGE_VERSION}; `
      + `1-minute load average ${input.loadBefore.toFixed(2)} at the start, ${(loadavg()[0] ?? 0).toFixed(2)} at the end (this run's own work included).`,
    `Model: ROWS = Gather(W, INDICES), W FP32 [${ROWS}, ${GATHER_COLUMNS}] of random bits; model.onnx ${input.onnxBytes} bytes, generated and written in ${input.generationMs.toFixed(0)} ms. `
      + `The .tar.gz of the folder: ${mb(archiveBytes)} MB (${archiveBytes} bytes), ${(100 * archiveBytes / input.folderBytes).toFixed(2)}% of the folder's ${mb(input.folderBytes)} MB.`,
    '',
    '| step | triage | by hand (cp -r + RepositoryModelLoad) | triage/by hand (medians) |',
    '|---|---:|---:|---:|',
    pair('files into R: POST /v1/models upload to registered / cp -r', t('registeredMs'), b('copyMs')),
    pair('to READY: POST /deploy to READY seen (GET every 20 ms) / RepositoryModelLoad + ModelReady', t('deployToReadyMs'), b('loadMs')),
    pair('total', triageTotal, baselineTotal),
    '',
    '| inside triage | ms, median (min-max) | how |',
    '|---|---:|---|',
    row('POST /v1/models: start to last body byte written', t('bodySentMs'), 'pack + upload + gunzip + untar to staging, streamed together'),
    row('POST /v1/models: last body byte to 201', input.triageRounds.map((round) => round.registeredMs - round.bodySentMs), 'the rest: validate, move into R, digest, record, audit'),
    row('pack alone (tar + gzip level 1, bench process)', e('packMs'), 'packDirectory drained to memory: the client side of the stream'),
    row('gzip level 1 of model.onnx alone (bench process)', e('gzipLevel1Ms'), 'zlib gzipSync, for comparison'),
    row('gzip level 0 (stored) of model.onnx alone (bench process)', e('gzipLevel0Ms'), 'zlib gzipSync, for comparison'),
    row('POST /v1/models of the archive packed beforehand: start to last body byte', e('prepackedBodySentMs'), 'upload + gunzip + untar to staging, no client gzip'),
    row('POST /v1/models of the archive packed beforehand: start to 201', e('prepackedRegisteredMs'), 'triage\'s whole share of a push'),
    row('gunzip alone (bench process)', e('gunzipMs'), 'zlib gunzipSync of the archive'),
    row('validate alone (bench process)', e('validateMs'), 'validateModelDirectory on the folder'),
    row('digest alone (bench process)', e('digestMs'), 'digestFolder (SHA-256) of the version folder'),
    row('triage CPU during the push', t('triageCpuPushMs'), '/proc utime + stime of the triage process'),
    row('POST /deploy answered (202)', t('deployAnsweredMs'), 'record + audit'),
    row('202 to READY seen', input.triageRounds.map((round) => round.deployToReadyMs - round.deployAnsweredMs), 'controller: plan, RepositoryModelLoad, probe, state; plus the poll'),
    row('triage CPU from deploy to READY', t('triageCpuDeployMs'), '/proc, triage process'),
    row('local-triton CPU, load through triage', t('localTritonCpuDeployMs'), '/proc, local-triton process'),
    row('local-triton CPU, load by hand', b('localTritonCpuLoadMs'), '/proc, local-triton process'),
    '',
  ].join('\n');
}
