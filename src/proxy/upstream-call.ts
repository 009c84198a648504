import { Metadata, status, type Deadline, type ServiceError, type StatusObject } from '@grpc/grpc-js';
import { TriageError } from '../errors/triage-error';
import type { InferRequestPeek } from '../protocol/infer-request-peek';
import type { InstancePool } from '../triton/instance-pool';
import type { TritonInstance } from '../triton/triton-instance';
import { forwardedMetadata } from './forwarded-metadata';
import type { Router } from './router';

const identity = (buffer: Buffer): Buffer => buffer;

export interface UpstreamCallOptions {
  /** The client's metadata; hop-by-hop headers and credentials are dropped before forwarding. */
  readonly metadata: Metadata;
  readonly deadline: Deadline;
  /** Aborting cancels the upstream call. */
  readonly signal?: AbortSignal;
  /** Called with the instance's response headers, before the response. */
  readonly onHeaders?: (headers: Metadata) => void;
  /** An inference: it counts as a use of the model, and may wait for the model's on-demand load (Router.route). */
  readonly inference?: boolean;
}

export interface UpstreamReply {
  readonly response: Buffer;
  readonly trailers: Metadata;
  readonly instance: TritonInstance;
}

/** A failed upstream call, with the instance's status, message and trailers. */
export interface UpstreamError extends Partial<StatusObject> {
  readonly code: status;
  readonly details: string;
  readonly metadata: Metadata;
}

/**
 * True when the call never reached the instance: grpc-js failed it before a connection
 * carried it (connection refused, no connection established). Only such calls are
 * safe to send again elsewhere; a call that reached Triton is never retried.
 */
export function neverReachedInstance(error: ServiceError): boolean {
  if (error.code !== status.UNAVAILABLE) return false;
  return /^No connection established|ECONNREFUSED|failed to connect|Connection refused/i.test(error.details);
}

/**
 * Sends one unary call, as raw bytes, to the instance the router picks, and resolves
 * with the raw response. A call that could not reach its instance is sent once more to
 * another instance (the first is reported unreachable and ejected); nothing else is
 * retried. The instance's outstanding count covers the call exactly while it is in flight.
 */
export async function callUpstream(pool: InstancePool, router: Router, path: string, request: Buffer, peek: InferRequestPeek, options: UpstreamCallOptions): Promise<UpstreamReply> {
  const metadata = forwardedMetadata(options.metadata);
  const first = await router.route(peek, options.inference === true ? deadlineMs(options.deadline) : null);
  // A client that left while the call waited for its model (on demand): nothing goes to the instance.
  if (aborted(options.signal)) throw new TriageError('CANCELLED', 'the client went away before the call was sent to an instance');
  try {
    return await attempt(first, path, request, metadata, options);
  } catch (error) {
    const serviceError = error as ServiceError;
    if (!neverReachedInstance(serviceError)) throw toUpstreamError(serviceError);
    pool.reportUnreachable(first, serviceError.details);
    if (options.signal?.aborted === true) throw toUpstreamError(serviceError);
    const second = router.tryRoute(peek, first);
    if (!(second instanceof Error)) {
      try {
        return await attempt(second, path, request, metadata, options);
      } catch (retryError) {
        const retryServiceError = retryError as ServiceError;
        if (neverReachedInstance(retryServiceError)) pool.reportUnreachable(second, retryServiceError.details);
        throw toUpstreamError(retryServiceError);
      }
    }
    throw toUpstreamError(serviceError);
  }
}

function attempt(instance: TritonInstance, path: string, request: Buffer, metadata: Metadata, options: UpstreamCallOptions): Promise<UpstreamReply> {
  return new Promise((resolve, reject) => {
    let trailers = new Metadata();
    instance.outstanding += 1;
    const onAbort = (): void => call.cancel();
    const call = instance.client.inference.makeUnaryRequest(path, identity, identity, request, metadata, { deadline: options.deadline },
      (error: ServiceError | null, response?: Buffer) => {
        instance.outstanding -= 1;
        options.signal?.removeEventListener('abort', onAbort);
        if (error !== null) reject(error);
        else resolve({ response: response ?? Buffer.alloc(0), trailers, instance });
      });
    call.on('status', (callStatus: StatusObject) => { trailers = callStatus.metadata; });
    if (options.onHeaders !== undefined) call.on('metadata', options.onHeaders);
    options.signal?.addEventListener('abort', onAbort, { once: true });
  });
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function deadlineMs(deadline: Deadline): number {
  return deadline instanceof Date ? deadline.getTime() : deadline;
}

function toUpstreamError(error: ServiceError | Error): UpstreamError {
  const serviceError = error as Partial<ServiceError>;
  if (typeof serviceError.code === 'number') {
    return { code: serviceError.code, details: serviceError.details ?? error.message, metadata: forwardedMetadata(serviceError.metadata ?? new Metadata()) };
  }
  throw error;
}
