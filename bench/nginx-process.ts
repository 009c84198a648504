import { spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { freePort } from './free-port';
import { nginxGrpcConfig } from './nginx-config';
import { ownChild } from './owned-child';
import { childPids } from './process-cpu';

export interface NginxProcess {
  readonly port: number;
  /** The master and its worker: the processes whose CPU time is nginx's. */
  readonly pids: readonly number[];
  /** What nginx wrote to its error log (level warn and above) so far. */
  errorLog(): string;
  /** Fast shutdown (SIGTERM), SIGKILL after 5 s; removes the temp folder. */
  stop(): Promise<void>;
}

/**
 * Starts Debian's nginx in the foreground as a gRPC proxy (grpc_pass) to
 * 127.0.0.1:upstreamPort, with its own config, pid file, logs and temp folders in a temp
 * folder, and resolves once it accepts connections and its worker runs.
 */
export async function startNginxGrpcProxy(upstreamPort: number): Promise<NginxProcess> {
  const directory = mkdtempSync(join(tmpdir(), 'triage-bench-nginx-'));
  chmodSync(directory, 0o755); // nginx's worker runs as nobody when started by root
  const port = await freePort();
  const configPath = join(directory, 'nginx.conf');
  const errorLogPath = join(directory, 'error.log');
  writeFileSync(configPath, nginxGrpcConfig({ directory, port, upstreamPort }));
  const child = spawn('nginx', ['-p', directory, '-c', configPath, '-e', errorLogPath, '-g', 'daemon off;'], { stdio: ['ignore', 'inherit', 'inherit'] });
  const stopChild = ownChild(child, 'SIGTERM', 5000);
  const errorLog = (): string => (existsSync(errorLogPath) ? readFileSync(errorLogPath, 'utf8') : '');
  const removeDirectory = (): void => rmSync(directory, { recursive: true, force: true });
  process.once('exit', removeDirectory);
  const stop = async (): Promise<void> => {
    await stopChild();
    process.removeListener('exit', removeDirectory);
    removeDirectory();
  };
  try {
    const deadline = Date.now() + 10_000;
    let workers: number[] = [];
    while (workers.length === 0) {
      if (child.exitCode !== null || child.signalCode !== null) throw new Error(`nginx exited (${child.exitCode ?? child.signalCode}) at startup`);
      if (Date.now() > deadline) throw new Error('nginx did not start within 10 s');
      await sleep(50);
      if (child.pid !== undefined && await accepts(port)) workers = childPids(child.pid);
    }
    return { port, pids: [child.pid as number, ...workers], errorLog, stop };
  } catch (error) {
    const log = errorLog();
    await stop();
    throw new Error(`${(error as Error).message}; its error log:\n${log}`);
  }
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => { socket.destroy(); resolve(true); });
    socket.once('error', () => resolve(false));
  });
}
