import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../../src/protocol/project-paths';

const TRIAGE = join(projectRoot(), 'bin', 'triage.js');
const READY_LINE = /local-triton ready: gRPC on [^\s:]+:(\d+)/;

export interface LocalTritonProcessOptions {
  readonly modelRepository: string;
  /** 0 = any free port (the default); give the old port to restart an instance where it was. */
  readonly grpcPort?: number;
  /** More `triage local-triton` flags. */
  readonly args?: readonly string[];
  readonly readyTimeoutMs?: number;
}

/** `triage local-triton` running as a child process, so a test can SIGKILL it. */
export interface LocalTritonProcess {
  readonly child: ChildProcess;
  readonly port: number;
  /** 127.0.0.1:port */
  readonly address: string;
  /** Everything the process wrote to stderr so far. */
  stderr(): string;
  /** True until the process has exited. */
  running(): boolean;
  /** SIGKILL, resolved once the process has exited. Idempotent. */
  kill(): Promise<void>;
}

/**
 * Starts `node bin/triage.js local-triton` on 127.0.0.1 (no metrics, warn logs) and
 * resolves once it prints its ready line. A process that does not get ready in time is
 * killed before the promise rejects, so a failed start leaks nothing.
 */
export function spawnLocalTriton(options: LocalTritonProcessOptions): Promise<LocalTritonProcess> {
  const child = spawn(process.execPath, [TRIAGE, 'local-triton',
    '--model-repository', options.modelRepository,
    '--grpc-address', '127.0.0.1',
    '--grpc-port', String(options.grpcPort ?? 0),
    '--metrics-port', '-1',
    '--log-level', 'warn',
    ...(options.args ?? []),
  ], { cwd: projectRoot(), stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  };
  child.stdout?.resume();
  return new Promise((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      void kill().then(() => reject(new Error(`local-triton ${reason}; stderr: ${stderr}`)));
    };
    const timer = setTimeout(() => fail(`printed no ready line within ${options.readyTimeoutMs ?? 20_000} ms`), options.readyTimeoutMs ?? 20_000);
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString();
      const match = READY_LINE.exec(stderr);
      if (match === null) return;
      clearTimeout(timer);
      child.off('exit', onEarlyExit);
      const port = Number(match[1]);
      resolve({
        child,
        port,
        address: `127.0.0.1:${port}`,
        stderr: () => stderr,
        running: () => child.exitCode === null && child.signalCode === null,
        kill,
      });
    };
    const onEarlyExit = (code: number | null, signal: NodeJS.Signals | null): void => fail(`exited with ${signal ?? code} before it was ready`);
    child.stderr?.on('data', onData);
    child.once('exit', onEarlyExit);
  });
}
