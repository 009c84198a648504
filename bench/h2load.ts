import { spawn } from 'node:child_process';
import { readFileSync, rmSync } from 'node:fs';
import { ownChild } from './owned-child';

export interface H2loadRun {
  readonly url: string;
  /** A file holding the request body (here: one gRPC-framed message). */
  readonly bodyPath: string;
  readonly headers: readonly string[];
  /** Connections (-c). */
  readonly connections: number;
  /** Streams in flight per connection (-m). */
  readonly streamsPerConnection: number;
  /** Duration of the run (-D), no warm-up phase: every request is counted and logged. */
  readonly seconds: number;
  /** When set, every request is written there (--log-file) and read back. */
  readonly logPath?: string;
  /** Called when h2load starts sending requests. */
  readonly onStart?: () => void;
}

/** One request of h2load's --log-file. */
export interface LoggedRequest {
  /** Microseconds since the epoch. */
  readonly startUs: number;
  /** HTTP status; -1 for a failed stream. */
  readonly status: number;
  readonly durationUs: number;
}

export interface H2loadResult {
  readonly succeeded: number;
  readonly failed: number;
  readonly errored: number;
  readonly timedOut: number;
  /** Bytes received (frames, headers and DATA). */
  readonly receivedBytes: number;
  /** Empty without logPath. */
  readonly requests: LoggedRequest[];
}

/** Runs h2load once (POSTing the body over h2c) and reads its summary and per-request log. */
export async function runH2load(run: H2loadRun): Promise<H2loadResult> {
  const args = [
    '-D', `${Math.round(run.seconds * 1000)}ms`, '-c', String(run.connections), '-m', String(run.streamsPerConnection), '-t', '1',
    ...run.headers.flatMap((header) => ['-H', header]), '-d', run.bodyPath,
    ...(run.logPath === undefined ? [] : ['--log-file', run.logPath]), run.url,
  ];
  const child = spawn('h2load', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const stop = ownChild(child, 'SIGKILL', 1000);
  let output = '';
  let started = false;
  child.stdout?.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    // h2load flushes this line as it starts its clients
    if (!started && output.includes('Main benchmark duration is started')) {
      started = true;
      run.onStart?.();
    }
  });
  child.stderr?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const code = await new Promise<number | null>((resolve, reject) => {
    child.once('error', (error) => reject(new Error(`cannot run h2load: ${error.message}`)));
    child.once('close', (exitCode) => resolve(exitCode)); // after its output is read
  }).finally(stop);
  if (code !== 0 || !started) throw new Error(`h2load ${args.join(' ')} exited with ${code}:\n${output}`);
  try {
    return { ...parseH2loadSummary(output), requests: run.logPath === undefined ? [] : readRequestLog(run.logPath) };
  } finally {
    if (run.logPath !== undefined) rmSync(run.logPath, { force: true });
  }
}

/** The counts of h2load's summary ("requests:" and "traffic:" lines). */
export function parseH2loadSummary(output: string): Omit<H2loadResult, 'requests'> {
  const requests = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded, (\d+) failed, (\d+) errored, (\d+) timeout/.exec(output);
  const traffic = /traffic: .*?\((\d+)\) total/.exec(output);
  if (requests === null || traffic === null) throw new Error(`cannot parse h2load's output:\n${output}`);
  return {
    succeeded: Number(requests[1]),
    failed: Number(requests[2]),
    errored: Number(requests[3]),
    timedOut: Number(requests[4]),
    receivedBytes: Number(traffic[1]),
  };
}

/** h2load's --log-file: tab-separated start time (us since the epoch), status, microseconds until the end of the response. */
export function readRequestLog(path: string): LoggedRequest[] {
  const requests: LoggedRequest[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    const [start, status, micros] = line.split('\t');
    if (micros !== undefined) requests.push({ startUs: Number(start), status: Number(status), durationUs: Number(micros) });
  }
  return requests;
}
