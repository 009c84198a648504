import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../src/protocol/project-paths';

export interface ServerProcess {
  readonly port: number;
  stop(): Promise<void>;
}

/** Starts `triage local-triton` in its own process (its own core), as users run it. */
export function startLocalTritonProcess(modelRepository: string): Promise<ServerProcess> {
  const child: ChildProcess = spawn(process.execPath, [
    join(projectRoot(), 'bin', 'triage.js'), 'local-triton', '--model-repository', modelRepository,
    '--grpc-address', '127.0.0.1', '--grpc-port', '0', '--metrics-port', '-1', '--log-level', 'warn',
  ], { stdio: ['ignore', 'inherit', 'pipe'] });
  let stderr = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr += chunk.toString();
      const match = /gRPC on [^:]+:(\d+)/.exec(stderr);
      if (match !== null) {
        resolve({
          port: Number(match[1]),
          stop: () => new Promise((done) => { child.once('exit', () => done()); child.kill('SIGTERM'); }),
        });
      }
    });
    child.once('exit', (code) => reject(new Error(`local-triton exited with ${code}: ${stderr}`)));
  });
}
