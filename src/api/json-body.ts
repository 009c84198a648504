import express, { type NextFunction, type Request, type RequestHandler, type Response } from 'express';
import { TriageError } from '../errors/triage-error';

/** Largest body the admin API reads; a larger one is refused with 413 before it is buffered whole. */
export const ADMIN_BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Reads the request body (gzip or deflate allowed, at most ADMIN_BODY_LIMIT_BYTES) and
 * replaces `request.body` with the parsed JSON. The body is read as JSON whatever its
 * Content-Type, so `curl -d '{...}'` works without `-H content-type`. An empty body,
 * text that is not JSON, or a `__proto__` member is a 400 naming `body`.
 */
export function jsonBody(): RequestHandler[] {
  const raw = express.raw({ type: () => true, limit: ADMIN_BODY_LIMIT_BYTES, inflate: true });
  const parse = (request: Request, _response: Response, next: NextFunction): void => {
    request.body = parseJsonBody(request.body);
    next();
  };
  return [raw, parse];
}

export function parseJsonBody(body: unknown): unknown {
  if (!Buffer.isBuffer(body) || body.length === 0) throw invalidBody('body is empty: send a JSON object');
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'), refuseProtoKeys);
  } catch (error) {
    if (error instanceof TriageError) throw error;
    throw invalidBody(`body is not valid JSON: ${(error as Error).message}`);
  }
  return parsed;
}

/** `__proto__` as a member name would set the prototype of the object it is copied into. */
function refuseProtoKeys(key: string, value: unknown): unknown {
  if (key === '__proto__') throw invalidBody('body has a member named "__proto__", which is not a field anywhere');
  return value;
}

function invalidBody(message: string): TriageError {
  return new TriageError('INVALID_ARGUMENT', message);
}

/** A body-parser refusal for a body over the limit (http-errors' `entity.too.large`). */
export function isBodyTooLarge(error: unknown): boolean {
  return error instanceof Error && (error as { type?: unknown }).type === 'entity.too.large';
}
