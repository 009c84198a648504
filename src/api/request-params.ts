import type { Request } from 'express';
import { TriageError } from '../errors/triage-error';

/** A path parameter of the route (`:name`), which express always sets for a matched route. */
export function pathParam(request: Request, name: string): string {
  const value = request.params[name];
  if (typeof value !== 'string' || value === '') throw new TriageError('INVALID_ARGUMENT', `path parameter ${name} is missing`);
  return value;
}

/** An optional query parameter: null when absent; given twice or empty is a 400 naming it. */
export function queryParam(request: Request, name: string): string | null {
  const value = request.query[name];
  if (value === undefined) return null;
  if (typeof value !== 'string' || value === '') throw new TriageError('INVALID_ARGUMENT', `query parameter ${name} must be given once, non-empty`);
  return value;
}
