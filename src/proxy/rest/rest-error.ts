import type { Response } from 'express';
import { errorCodeSpec } from '../../errors/error-codes';
import { httpStatusOfGrpc } from '../../errors/grpc-http-status';
import { asTriageError, isTriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { QuotaRefusal } from '../../tenancy/quota-refusal';

/** What an error becomes on the REST port; `errorId` is set for triage's own errors. */
export interface RestError {
  readonly status: number;
  readonly message: string;
  readonly errorId: string | null;
  /** Extra response headers (Accept-Encoding with a 415). */
  readonly headers?: Readonly<Record<string, string>>;
  /** Extra members of the error body (a TriageError's details). */
  readonly details?: Readonly<Record<string, unknown>>;
}

/** A body-parser failure (http-errors): its own HTTP status and a `type`. */
interface BodyError {
  readonly status: number;
  readonly type: string;
  readonly message: string;
  readonly limit?: number;
  readonly encoding?: string;
}

function isBodyError(error: unknown): error is BodyError {
  return error instanceof Error && typeof (error as Partial<BodyError>).status === 'number' && typeof (error as Partial<BodyError>).type === 'string';
}

/** An instance's gRPC status (UpstreamError, or a grpc-js ServiceError of a direct call). */
function isGrpcStatus(error: unknown): error is { code: number; details: string } {
  return typeof error === 'object' && error !== null
    && typeof (error as { code?: unknown }).code === 'number' && typeof (error as { details?: unknown }).details === 'string';
}

/**
 * The one place a REST failure gets its status and text: a TriageError by its code
 * (error-codes.ts), an instance's gRPC status by grpc-http-status.ts with its message
 * unchanged, a body the HTTP layer refused by its own status (413 over the size limit,
 * 415 for an unknown Content-Encoding), anything else INTERNAL. Logged here, once:
 * INTERNAL at error level with its id and message, the client's mistakes at debug with
 * their code and id only (their messages may quote the request's data).
 */
export function restError(error: unknown, logger: Logger, route: string): RestError {
  if (!isTriageError(error)) {
    if (isBodyError(error)) return bodyError(error);
    if (isGrpcStatus(error)) return { status: httpStatusOfGrpc(error.code), message: error.details, errorId: null };
  }
  const triageError = asTriageError(error);
  const fields = { route, code: triageError.code, errorId: triageError.id };
  // A refusal's message may quote what the client sent (a tensor value, a model name): the client reads it, the log does not.
  if (triageError.code === 'INTERNAL') logger.error({ ...fields, reason: triageError.message }, 'REST request failed');
  else logger.debug(fields, 'REST request refused');
  const headers = triageError instanceof QuotaRefusal ? quotaHeaders(triageError) : undefined;
  return {
    status: errorCodeSpec(triageError.code).http,
    message: triageError.message,
    errorId: triageError.id,
    ...(headers === undefined ? {} : { headers }),
    ...(triageError.details === null ? {} : { details: triageError.details }),
  };
}

/** A quota refusal's metadata, plus HTTP's Retry-After (whole seconds) when a retry can help. */
function quotaHeaders(refusal: QuotaRefusal): Record<string, string> {
  const headers = refusal.headers();
  if (refusal.retryAfterMs !== null) headers['retry-after'] = String(Math.max(1, Math.ceil(refusal.retryAfterMs / 1000)));
  return headers;
}

function bodyError(error: BodyError): RestError {
  switch (error.type) {
    case 'entity.too.large':
      return { status: 413, message: `the request body is larger than the limit of ${error.limit ?? '?'} bytes (--max-message-bytes)`, errorId: null };
    case 'encoding.unsupported':
      return {
        status: 415,
        message: `unsupported Content-Encoding '${error.encoding ?? '?'}': send the body uncompressed, gzip or deflate`,
        errorId: null,
        headers: { 'accept-encoding': 'gzip, deflate' },
      };
    default:
      return { status: error.status, message: `cannot read the request body: ${error.message}`, errorId: null };
  }
}

/** Answers `{"error": message, ...details}` with the status of restError, unless the client is gone or an answer has begun. */
export function sendRestError(response: Response, error: unknown, logger: Logger, route: string): void {
  const { status, message, errorId, headers, details } = restError(error, logger, route);
  if (response.headersSent || response.destroyed) return;
  if (errorId !== null) response.setHeader('triage-error-id', errorId);
  for (const [name, value] of Object.entries(headers ?? {})) response.setHeader(name, value);
  response.status(status).json({ ...details, error: message });
}
