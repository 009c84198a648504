import { randomBytes } from 'node:crypto';
import type { ErrorCode } from './error-codes';

export interface TriageErrorOptions {
  readonly cause?: unknown;
  /** Structured facts a client can act on (e.g. every problem of a model), added to the REST error body. */
  readonly details?: Readonly<Record<string, unknown>>;
}

/**
 * The one error type of triage: a stable code (mapped to gRPC and HTTP status in
 * error-codes.ts), a message for humans, an optional cause, and an id that also
 * appears in the log line that records it.
 */
export class TriageError extends Error {
  override readonly name = 'TriageError';
  readonly code: ErrorCode;
  readonly id: string;
  readonly details: Readonly<Record<string, unknown>> | null;

  constructor(code: ErrorCode, message: string, options: TriageErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.details = options.details ?? null;
    this.id = randomBytes(6).toString('hex');
  }
}

export function isTriageError(value: unknown): value is TriageError {
  return value instanceof TriageError;
}

/** Wraps anything thrown into a TriageError; unknown failures become INTERNAL. */
export function asTriageError(value: unknown): TriageError {
  if (value instanceof TriageError) return value;
  const message = value instanceof Error ? value.message : String(value);
  return new TriageError('INTERNAL', message, { cause: value });
}
