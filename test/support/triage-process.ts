import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/protocol/project-paths';
import { TEST_ADMIN_KEY, TEST_JOBS_KEYS_ARGUMENT } from './test-redis';

const TRIAGE = join(projectRoot(), 'bin', 'triage.js');
const READY_LINE = /triage ready: gRPC on [^\s]+:(\d+), HTTP on [^\s]+:(\d+)/;

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
}

/** `triage serve` running as a child process, so a test can run several and SIGKILL one. */
export interface TriageProcess {
  readonly child: ChildProcess;
  readonly grpcPort: number;
  readonly httpPort: number;
  /** 127.0.0.1:grpcPort */
  readonly address: string;
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

/**
 * Starts `node bin/triage.js serve` on 127.0.0.1 with free ports and resolves once it
 * prints "triage ready: gRPC on ...:P, HTTP on ...:Q". A process that does not get
 * ready in time is killed before the promise rejects, so a failed start leaks nothing.
 */
export function spawnTriage(options: TriageProcessOptions): Promise<TriageProcess> {
  const child = spawn(process.execPath, [TRIAGE, 'serve',
    '--triton-urls', options.tritonUrls.join(','),
    '--redis-url', options.redisUrl,
    '--redis-prefix', options.redisPrefix,
    '--admin-key', options.adminKey ?? TEST_ADMIN_KEY,
    '--jobs-keys', TEST_JOBS_KEYS_ARGUMENT,
    '--listen-address', '127.0.0.1',
    '--grpc-port', '0',
    '--http-port', '0',
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
      const grpcPort = Number(match[1]);
      const httpPort = Number(match[2]);
      resolve({
        child,
        grpcPort,
        httpPort,
        address: `127.0.0.1:${grpcPort}`,
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
