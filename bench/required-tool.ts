import { spawnSync } from 'node:child_process';

/**
 * The first line `command versionArgs` prints (its version), or an error that says how
 * to install the command.
 */
export function requireTool(command: string, versionArgs: readonly string[], howToInstall: string): string {
  const result = spawnSync(command, versionArgs, { encoding: 'utf8' });
  if (result.error !== undefined || result.status !== 0) {
    throw new Error(`this benchmark needs '${command}', which is ${result.error !== undefined ? 'not installed' : 'not working'}: `
      + howToInstall);
  }
  return `${result.stdout}${result.stderr}`.trim().split('\n')[0] ?? command;
}
