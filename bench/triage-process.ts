import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { projectRoot } from '../src/protocol/project-paths';
import { ownChild } from './owned-child';

export interface TriageProcess {
  readonly pid: number;
  /** The match of the ready pattern in the process's stderr. */
  readonly ready: RegExpExecArray;
  /** SIGTERM (graceful), SIGKILL after 15 s; resolves when the process has exited. */
  stop(): Promise<void>;
}

/**
 * Runs `node bin/triage.js <args>` in its own process, as users run it, and resolves once
 * its stderr matches `readyPattern` (e.g. the "triage ready" line).
 */
export function startTriageProcess(args: readonly string[], readyPattern: RegExp, timeoutMs = 30_000): Promise<TriageProcess> {
  // BENCH_CPU_PROF=<folder>: the triage process writes a V8 CPU profile there when it exits (node --cpu-prof).
  const profile = process.env['BENCH_CPU_PROF'];
  const nodeFlags = profile === undefined || profile === '' ? [] : ['--cpu-prof', `--cpu-prof-dir=${profile}`];
  const child = spawn(process.execPath, [...nodeFlags, join(projectRoot(), 'bin', 'triage.js'), ...args], { stdio: ['ignore', 'inherit', 'pipe'] });
  const stop = ownChild(child, 'SIGTERM', 15_000);
  let stderr = '';
  return new Promise<TriageProcess>((resolve, reject) => {
    const fail = (reason: string): void => {
      clearTimeout(timer);
      void stop().then(() => reject(new Error(`triage ${args[0] ?? ''} ${reason}; stderr:\n${stderr}`)));
    };
    const timer = setTimeout(() => fail(`did not print ${String(readyPattern)} within ${timeoutMs} ms`), timeoutMs);
    const onData = (chunk: Buffer): void => {
      stderr += chunk.toString();
      const match = readyPattern.exec(stderr);
      if (match === null || child.pid === undefined) return;
      clearTimeout(timer);
      child.removeListener('exit', onExit);
      // keep draining stderr so the child never blocks on a full pipe; show what it says
      child.stderr?.removeListener('data', onData);
      child.stderr?.on('data', (more: Buffer) => process.stderr.write(more));
      resolve({ pid: child.pid, ready: match, stop });
    };
    const onExit = (code: number | null): void => fail(`exited with ${code}`);
    child.stderr?.on('data', onData);
    child.once('exit', onExit);
    child.once('error', (error) => fail(`could not start: ${error.message}`));
  });
}
