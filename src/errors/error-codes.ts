import { status as GrpcStatus } from '@grpc/grpc-js';

/** How one error code surfaces on each protocol, and what it means for the caller. */
export interface ErrorCodeSpec {
  readonly grpc: GrpcStatus;
  readonly http: number;
  readonly description: string;
}

/**
 * The one table of error codes. Every TriageError carries one of these keys, so the
 * compiler rejects a code that has no gRPC and HTTP mapping. docs/errors.md documents
 * each code (a test keeps the two in step).
 *
 * The generic codes mirror Triton's own TRITONSERVER_Error codes and their mapping
 * (INVALID_ARG -> INVALID_ARGUMENT/400, NOT_FOUND -> 404, UNAVAILABLE -> 503,
 * UNSUPPORTED -> UNIMPLEMENTED/501, INTERNAL -> 500), so local-triton answers exactly
 * as Triton does.
 */
export const ERROR_CODES = {
  INVALID_ARGUMENT: {
    grpc: GrpcStatus.INVALID_ARGUMENT,
    http: 400,
    description: 'The request is malformed or does not match the model: fix the request; retrying it unchanged fails again.',
  },
  NOT_FOUND: {
    grpc: GrpcStatus.NOT_FOUND,
    http: 404,
    description: 'The named model, version or resource does not exist.',
  },
  ALREADY_EXISTS: {
    grpc: GrpcStatus.ALREADY_EXISTS,
    http: 409,
    description: 'The resource already exists.',
  },
  UNAVAILABLE: {
    grpc: GrpcStatus.UNAVAILABLE,
    http: 503,
    description: 'The model or server cannot serve the request right now (not loaded, unloading, queue full); retry later.',
  },
  UNIMPLEMENTED: {
    grpc: GrpcStatus.UNIMPLEMENTED,
    http: 501,
    description: 'The operation is not supported by this server.',
  },
  UNAUTHENTICATED: {
    grpc: GrpcStatus.UNAUTHENTICATED,
    http: 401,
    description: 'No valid API key: missing, malformed, unknown, expired or revoked. Send `authorization: Bearer <key>` or `x-api-key: <key>`.',
  },
  QUOTA_EXCEEDED: {
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    http: 429,
    description: 'A rate or concurrency limit of the tenant (or of the tenant for this model) is reached; the message names it, and `retry-after-ms` says when to retry.',
  },
  BUDGET_EXHAUSTED: {
    grpc: GrpcStatus.RESOURCE_EXHAUSTED,
    http: 429,
    description: 'A daily or monthly budget, or the request size limit, of the tenant is used up; retrying before the period ends does not help.',
  },
  PERMISSION_DENIED: {
    grpc: GrpcStatus.PERMISSION_DENIED,
    http: 403,
    description: 'The caller may not use this operation or resource (on the inference port: an admin operation).',
  },
  CANCELLED: {
    grpc: GrpcStatus.CANCELLED,
    http: 499,
    description: 'The caller cancelled the request before it completed.',
  },
  DEADLINE_EXCEEDED: {
    grpc: GrpcStatus.DEADLINE_EXCEEDED,
    http: 504,
    description: 'The request did not complete before its deadline or timeout.',
  },
  CONFIG_INVALID: {
    grpc: GrpcStatus.INVALID_ARGUMENT,
    http: 400,
    description: 'A configuration setting (flag or TRIAGE_* environment variable) is missing or breaks its rule; the message names the setting.',
  },
  MODEL_INVALID: {
    grpc: GrpcStatus.FAILED_PRECONDITION,
    http: 422,
    description: 'An uploaded model fails validation; the answer lists every problem (`problems`: path, rule, message) and nothing is written.',
  },
  CONFLICT: {
    grpc: GrpcStatus.ABORTED,
    http: 409,
    description: 'The resource changed while the request ran, or is in a state that forbids the change (e.g. deleting the last version of a deployed model); the message says which.',
  },
  INTERNAL: {
    grpc: GrpcStatus.INTERNAL,
    http: 500,
    description: 'An unexpected failure inside the server; the log line with the same error id has the details.',
  },
} as const satisfies Record<string, ErrorCodeSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function errorCodeSpec(code: ErrorCode): ErrorCodeSpec {
  return ERROR_CODES[code];
}
