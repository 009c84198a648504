import type { ChildProcess } from 'node:child_process';

/**
 * Stops a child process the benchmark started: `signal`, then SIGKILL if it has not
 * exited after `timeoutMs`. Resolves once it has exited. Until then, the child is also
 * sent `signal` if the benchmark process exits, so a failed run leaves nothing behind
 * (nginx's master, unlike SIGKILL, then also stops its worker).
 */
export function ownChild(child: ChildProcess, signal: NodeJS.Signals, timeoutMs: number): () => Promise<void> {
  const killOnExit = (): void => { child.kill(signal); };
  process.once('exit', killOnExit);
  const exited = new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
    child.once('error', () => { if (child.pid === undefined) resolve(); }); // never started
  });
  void exited.then(() => process.removeListener('exit', killOnExit));
  let stopping: Promise<void> | null = null;
  return () => {
    stopping ??= (async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        await exited;
        clearTimeout(timer);
      }
    })();
    return stopping;
  };
}
