import type { Logger } from '../observability/logger';

/**
 * Resolves after the first SIGINT or SIGTERM has run `stop` to completion. A second
 * signal while stopping exits at once.
 */
export function stopOnSignals(logger: Logger, stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    let stopping = false;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (stopping) {
        logger.warn({ signal }, 'second signal: exiting without waiting');
        process.exit(130);
      }
      stopping = true;
      logger.info({ signal }, 'stopping');
      stop().then(
        () => { process.off('SIGINT', onSignal); process.off('SIGTERM', onSignal); resolve(); },
        (error: unknown) => { logger.error({ reason: (error as Error).message }, 'stop failed'); process.exitCode = 1; resolve(); },
      );
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
