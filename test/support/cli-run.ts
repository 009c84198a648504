import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { projectRoot } from '../../src/protocol/project-paths';

const execute = promisify(execFile);
const TRIAGE = join(projectRoot(), 'bin', 'triage.js');

/** How a `triage` command ended. */
export interface CliRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** `triage <args>` as a user runs it (stdout not a terminal, so answers are JSON), with `env` added to the test's environment. */
export async function runTriageCli(args: readonly string[], env: Readonly<Record<string, string>>, cwd: string): Promise<CliRun> {
  try {
    const { stdout, stderr } = await execute(process.execPath, [TRIAGE, ...args], { env: { ...process.env, ...env }, cwd, maxBuffer: 64 * 1024 * 1024 });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}
