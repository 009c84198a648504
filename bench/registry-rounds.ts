import { execFile } from 'node:child_process';
import { link, mkdir, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { promisify } from 'node:util';
import { packDirectory } from '../src/repository/archive/pack-directory';
import type { TritonClient } from '../src/triton/triton-client';
import { inferRequest, int32Buffer, readFloat32 } from '../test/support/infer-request';
import { expectedRows, gatherModelConfig, GATHER_LOOKUPS, type GatherModel } from './gather-model';
import { processCpuSeconds } from './process-cpu';
import { timedPost } from './timed-post';

const run = promisify(execFile);
const POLL_INTERVAL_MS = 20;
const READY_TIMEOUT_MS = 120_000;

/** The processes and folders of one benchmark run. */
export interface RegistrySetup {
  /** triage's HTTP port, e.g. http://127.0.0.1:41234. */
  readonly httpBase: string;
  readonly adminKey: string;
  readonly triagePid: number;
  /** The local-triton instance as triage names it (its --triton-urls entry). */
  readonly instance: string;
  readonly localTritonPid: number;
  /** A client of local-triton itself (the baseline's way in). */
  readonly localTriton: TritonClient;
  /** R: local-triton's --model-repository, also triage's. */
  readonly repository: string;
  /** Where the model folders to push or copy are made. */
  readonly sources: string;
  /** The model.onnx every source folder links to. */
  readonly onnxPath: string;
  readonly model: GatherModel;
}

/** One push + deploy through triage; every duration in ms from the start of its step. */
export interface TriageRound {
  /** POST /v1/models: request start to its last body byte written (pack, upload and extraction, streamed together). */
  readonly bodySentMs: number;
  /** POST /v1/models: request start to the 201 (upload-to-registered). */
  readonly registeredMs: number;
  readonly archiveBytes: number;
  /** POST /deploy: request start to the 202. */
  readonly deployAnsweredMs: number;
  /** POST /deploy start to the first GET that shows the model READY on the instance. */
  readonly deployToReadyMs: number;
  readonly triageCpuPushMs: number;
  readonly triageCpuDeployMs: number;
  readonly localTritonCpuDeployMs: number;
}

/** The same model by hand: cp -r into R, then RepositoryModelLoad on the instance. */
export interface BaselineRound {
  readonly copyMs: number;
  /** RepositoryModelLoad, then ModelReady confirming it. */
  readonly loadMs: number;
  readonly localTritonCpuLoadMs: number;
}

/** A model folder `<sources>/<name>` (config.pbtxt, 1/model.onnx as a hard link to the one generated file). */
export async function sourceFolder(setup: RegistrySetup, name: string): Promise<string> {
  const folder = join(setup.sources, name);
  await mkdir(join(folder, '1'), { recursive: true });
  await writeFile(join(folder, 'config.pbtxt'), gatherModelConfig(name));
  await link(setup.onnxPath, join(folder, '1', 'model.onnx'));
  return folder;
}

export async function triageRound(setup: RegistrySetup, name: string): Promise<TriageRound> {
  const folder = await sourceFolder(setup, name);
  const authorization = `Bearer ${setup.adminKey}`;
  const cpuBeforePush = processCpuSeconds([setup.triagePid]);
  const push = await timedPost(new URL('/v1/models', setup.httpBase), { authorization, 'content-type': 'application/gzip' }, packDirectory(folder));
  if (push.status !== 201) throw new Error(`POST /v1/models of ${name}: HTTP ${push.status}: ${push.text.slice(0, 2000)}`);
  const cpuAfterPush = processCpuSeconds([setup.triagePid]);
  const localTritonBefore = processCpuSeconds([setup.localTritonPid]);

  const deployStarted = performance.now();
  const deploy = await fetch(new URL(`/v1/models/${name}/deploy`, setup.httpBase), {
    method: 'POST', headers: { authorization, 'content-type': 'application/json' }, body: JSON.stringify({ replicas: 1 }),
  });
  const deployText = await deploy.text();
  if (deploy.status !== 202) throw new Error(`POST /v1/models/${name}/deploy: HTTP ${deploy.status}: ${deployText}`);
  const deployAnsweredMs = performance.now() - deployStarted;
  await untilReady(setup, name);
  const deployToReadyMs = performance.now() - deployStarted;
  const round: TriageRound = {
    bodySentMs: push.bodySentMs,
    registeredMs: push.answeredMs,
    archiveBytes: push.sentBytes,
    deployAnsweredMs,
    deployToReadyMs,
    triageCpuPushMs: (cpuAfterPush - cpuBeforePush) * 1000,
    triageCpuDeployMs: (processCpuSeconds([setup.triagePid]) - cpuAfterPush) * 1000,
    localTritonCpuDeployMs: (processCpuSeconds([setup.localTritonPid]) - localTritonBefore) * 1000,
  };
  await checkTriageInference(setup, name);
  return round;
}

/** Polls GET /v1/models/{name} every POLL_INTERVAL_MS until the instance's state is READY; throws on FAILED or timeout. */
async function untilReady(setup: RegistrySetup, name: string): Promise<void> {
  const deadline = performance.now() + READY_TIMEOUT_MS;
  for (;;) {
    const answer = await fetch(new URL(`/v1/models/${name}`, setup.httpBase), { headers: { authorization: `Bearer ${setup.adminKey}` } });
    const view = await answer.json() as { state?: { instance: string; state: string; reason: string | null }[] };
    const mine = view.state?.find((entry) => entry.instance === setup.instance);
    if (mine?.state === 'READY') return;
    if (mine?.state === 'FAILED') throw new Error(`${name} FAILED on ${setup.instance}: ${mine.reason ?? 'no reason'}`);
    if (performance.now() > deadline) throw new Error(`${name} not READY after ${READY_TIMEOUT_MS} ms: ${JSON.stringify(view.state)}`);
    await new Promise((resolve) => setTimeout(resolve, POLL_INTERVAL_MS));
  }
}

/** Four rows looked up through triage's REST port (first, last, two random) must be the weights' exact values. */
async function checkTriageInference(setup: RegistrySetup, name: string): Promise<void> {
  const indices = lookupIndices(setup.model.rows);
  const answer = await fetch(new URL(`/v2/models/${name}/infer`, setup.httpBase), {
    method: 'POST',
    headers: { authorization: `Bearer ${setup.adminKey}`, 'content-type': 'application/json' },
    body: JSON.stringify({ inputs: [{ name: 'INDICES', shape: [GATHER_LOOKUPS], datatype: 'INT32', data: indices }] }),
  });
  const text = await answer.text();
  if (answer.status !== 200) throw new Error(`inference on ${name} through triage: HTTP ${answer.status}: ${text}`);
  const output = (JSON.parse(text) as { outputs?: { name: string; data?: number[] }[] }).outputs?.find((entry) => entry.name === 'ROWS');
  compareRows(name, 'through triage', (output?.data ?? []).map(Math.fround), expectedRows(setup.model, indices));
}

export async function baselineRound(setup: RegistrySetup, name: string): Promise<BaselineRound> {
  const folder = await sourceFolder(setup, name);
  const copyStarted = performance.now();
  await run('cp', ['-r', folder, join(setup.repository, name)]);
  const copyMs = performance.now() - copyStarted;
  const cpuBefore = processCpuSeconds([setup.localTritonPid]);
  const loadStarted = performance.now();
  await setup.localTriton.unary('RepositoryModelLoad', { repository_name: '', model_name: name, parameters: {} }, { timeoutMs: READY_TIMEOUT_MS });
  const ready = await setup.localTriton.unary<{ ready: boolean }>('ModelReady', { name, version: '' }, { timeoutMs: 5000 });
  const loadMs = performance.now() - loadStarted;
  if (!ready.ready) throw new Error(`${name}: RepositoryModelLoad succeeded but ModelReady says not ready`);
  const round: BaselineRound = { copyMs, loadMs, localTritonCpuLoadMs: (processCpuSeconds([setup.localTritonPid]) - cpuBefore) * 1000 };
  const indices = lookupIndices(setup.model.rows);
  const answer = await setup.localTriton.unary<{ raw_output_contents: Buffer[] }>('ModelInfer',
    inferRequest(name, [{ name: 'INDICES', datatype: 'INT32', shape: [GATHER_LOOKUPS], raw: int32Buffer(indices) }]), { timeoutMs: 10_000 });
  compareRows(name, 'on local-triton', readFloat32(answer.raw_output_contents[0] ?? Buffer.alloc(0)), expectedRows(setup.model, indices));
  return round;
}

/** Removes a pushed model (DELETE undeploys it first) and its source folder; not timed. */
export async function removeTriageModel(setup: RegistrySetup, name: string): Promise<void> {
  const answer = await fetch(new URL(`/v1/models/${name}`, setup.httpBase), { method: 'DELETE', headers: { authorization: `Bearer ${setup.adminKey}` } });
  if (answer.status !== 200) throw new Error(`DELETE /v1/models/${name}: HTTP ${answer.status}: ${await answer.text()}`);
  await rm(join(setup.sources, name), { recursive: true, force: true });
}

/** Unloads a hand-loaded model and removes its folders; not timed. */
export async function removeBaselineModel(setup: RegistrySetup, name: string): Promise<void> {
  await setup.localTriton.unary('RepositoryModelUnload', { repository_name: '', model_name: name, parameters: {} }, { timeoutMs: 60_000 });
  await rm(join(setup.repository, name), { recursive: true, force: true });
  await rm(join(setup.sources, name), { recursive: true, force: true });
}

function lookupIndices(rows: number): number[] {
  return [0, rows - 1, Math.floor(Math.random() * rows), Math.floor(Math.random() * rows)];
}

function compareRows(name: string, where: string, actual: readonly number[], expected: readonly number[]): void {
  const same = actual.length === expected.length && actual.every((value, index) => Object.is(value, expected[index]) || value === expected[index]);
  if (!same) throw new Error(`wrong lookup from ${name} ${where}: got ${actual.length} values, first ${actual.slice(0, 4).join(', ')}; expected ${expected.slice(0, 4).join(', ')}`);
}
