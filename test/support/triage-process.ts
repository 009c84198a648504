import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/protocol/project-paths';
import { TEST_ADMIN_KEY, TEST_JOBS_KEYS_ARGUMENT } from './test-redis';

const TRIAGE = join(projectRoot(), 'bin', 'triage.js');
/** Group 1: the gRPC port (absent when the process runs no proxy role); group 2: the HTTP port. */
const READY_LINE = /triage ready: (?:gRPC on [^\s]+:(\d+)|gRPC off \(no proxy role\)), HTTP on [^\s]+:(\d+)/;

export interface TriageProcessOptions {
  /** Triton instances (host:port). */
  readonly tritonUrls: readonly string[];
  readonly redisUrl: string;
  readonly redisPrefix: string;
  /** Default: TEST_ADMIN_KEY. */
  readonly adminKey?: string;
  /** Default: 2000 ms. */
  readonly leaseTtlMs?: number;
  /** More `triage serve` flags. */
  readonly args?: readonly string[];
  readonly readyTimeoutMs?: number;
  /** Default 0 (a free port); give the old port to restart a process where it was. */
  readonly grpcPort?: number;
  /** Default 0 (a free port); give the old port to restart a process where it was. */
  readonly httpPort?: number;
}

/** `triage serve` running as a child process with any roles (gRPC off without the proxy role). */
export interface TriageRoleProcess {
  readonly child: ChildProcess;
  /** null when the process runs no proxy role (it printed "gRPC off"). */
  readonly grpcPort: number | null;
  readonly httpPort: number;
  /** http://127.0.0.1:httpPort */
  readonly httpBase: string;
  /** Everything the process wrote to stdout (JSON logs) and stderr so far. */
  output(): string;
  running(): boolean;
  /** SIGKILL, resolved once the process has exited. Idempotent. */
  kill(): Promise<void>;
  /** SIGTERM (graceful), resolved once the process has exited; SIGKILL after 5 s. Idempotent. */
  stop(): Promise<void>;
}

/** `triage serve` running as a child process with its gRPC port on (the proxy role), so a test can run several and SIGKILL one. */
export interface TriageProcess extends TriageRoleProcess {
  readonly grpcPort: number;
  /** 127.0.0.1:grpcPort */
  readonly address: string;
}

/**
 * Starts `node bin/triage.js serve` (every role unless `args` says `--roles`) and resolves
 * once it has a gRPC port; a process that came up without one is stopped and the promise rejects.
 */
export async function spawnTriage(options: TriageProcessOptions): Promise<TriageProcess> {
  const started = await spawnTriageProcess(options);
  const { grpcPort } = started;
  if (grpcPort === null) {
    await started.stop();
    throw new Error('triage serve started without a gRPC port (no proxy role): use spawnTriageProcess');
  }
  return { ...started, grpcPort, address: `127.0.0.1:${grpcPort}` };
}

/**
 * Starts `node bin/triage.js serve` on 127.0.0.1 (free ports unless given) and resolves
 * once it prints "triage ready: gRPC on ...:P, HTTP on ...:Q" or "triage ready: gRPC off
 * (no proxy role), HTTP on ...:Q". A process that does not get ready in time is killed
 * before the promise rejects, so a failed start leaks nothing.
 */
export function spawnTriageProcess(options: TriageProcessOptions): Promise<TriageRoleProcess> {
  const child = spawn(process.execPath, [TRIAGE, 'serve',
    '--triton-urls', options.tritonUrls.join(','),
    '--redis-url', options.redisUrl,
    '--redis-prefix', options.redisPrefix,
    '--admin-key', options.adminKey ?? TEST_ADMIN_KEY,
    '--jobs-keys', TEST_JOBS_KEYS_ARGUMENT,
    '--listen-address', '127.0.0.1',
    '--grpc-port', String(options.grpcPort ?? 0),
    '--http-port', String(options.httpPort ?? 0),
    '--lease-ttl', String(options.leaseTtlMs ?? 2000),
    '--log-level', 'warn',
    ...(options.args ?? []),
  ], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let output = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const running = (): boolean => child.exitCode === null && child.signalCode === null;
  const kill = async (): Promise<void> => {
    if (running()) child.kill('SIGKILL');
    await exited;
  };
  const stop = async (): Promise<void> => {
    if (running()) child.kill('SIGTERM');
    const timer = setTimeout(() => { if (running()) child.kill('SIGKILL'); }, 5_000);
    await exited;
    clearTimeout(timer);
  };
  child.stdout?.on('data', (chunk: Buffer) => { output += chunk.toString(); });
  const readyTimeoutMs = options.readyTimeoutMs ?? 30_000;
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      void kill().then(() => reject(new Error(`triage serve ${reason}; output: ${output}`)));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${readyTimeoutMs} ms`), readyTimeoutMs);
    let ready = false;
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      if (ready) return;
      const match = READY_LINE.exec(output);
      if (match === null) return;
      ready = true;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const grpcPort = match[1] === undefined ? null : Number(match[1]);
      const httpPort = Number(match[2]);
      resolve({
        child,
        grpcPort,
        httpPort,
        httpBase: `http://127.0.0.1:${httpPort}`,
        output: () => output,
        running,
        kill,
        stop,
      });
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited with ${signal ?? code} before it was ready`);
    child.stderr?.on('data', onData);
    child.once('exit', onEarlyExit);
  });
}
