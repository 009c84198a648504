import pino, { type Logger } from 'pino';

export type { Logger } from 'pino';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

export const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

/**
 * The root logger: structured JSON, one child per component (`component` field).
 * Never log a payload, an API key or a secret: log ids, names, sizes and durations.
 */
export function createLogger(level: LogLevel, destination: pino.DestinationStream = pino.destination(1)): Logger {
  return pino({ level, base: { service: 'triage' } }, destination);
}

export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}
