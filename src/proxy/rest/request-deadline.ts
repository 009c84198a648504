import type { Deadline } from '@grpc/grpc-js';
import type { Request } from 'express';
import { invalid } from './json-rules';

/**
 * The header a REST client sets to bound a call, in milliseconds (gRPC clients set a
 * deadline instead). Without it a call has no deadline, as on Triton's HTTP port; when it
 * passes, the call is cancelled on the instance and the client gets 504.
 */
export const TIMEOUT_HEADER = 'triage-timeout-ms';

/** The deadline of the instance call for a REST request; a bad header value is a 400. */
export function requestDeadline(request: Request): Deadline {
  const value = request.headers[TIMEOUT_HEADER];
  if (value === undefined) return Infinity;
  const text = Array.isArray(value) ? value.join(',') : value;
  const timeoutMs = /^[0-9]+$/.test(text.trim()) ? Number(text.trim()) : NaN;
  if (!Number.isSafeInteger(timeoutMs) || timeoutMs <= 0) {
    throw invalid(`header Triage-Timeout-Ms is '${text}': it must be a positive whole number of milliseconds`);
  }
  return new Date(Date.now() + timeoutMs);
}
