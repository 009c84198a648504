import { Metadata, type Deadline } from '@grpc/grpc-js';
import { TriageError } from '../../errors/triage-error';
import { grpcDefinitions } from '../../protocol/grpc-definitions';
import { peekInferRequest } from '../../protocol/infer-request-peek';
import type { InstancePool } from '../../triton/instance-pool';
import type { Router } from '../router';
import { callUpstream } from '../upstream-call';

export interface RoutedCallContext {
  readonly pool: InstancePool;
  readonly router: Router;
}

export interface RoutedCallOptions {
  readonly deadline: Deadline;
  /** Aborting cancels the call (the HTTP client went away). */
  readonly signal?: AbortSignal;
  /** An inference: counts as a use of the model and may wait for its on-demand load. */
  readonly inference?: boolean;
  /** Told the address of the instance that answered. */
  readonly servedBy?: (address: string) => void;
}

/**
 * One unary GRPCInferenceService call on behalf of a REST request, routed exactly as the
 * gRPC front door routes it (the model and sequence are read from the encoded request),
 * with the messages in our proto loader's decoded form. Rejects with the router's
 * TriageError or the instance's UpstreamError, unchanged.
 */
export async function routedCall<Response>(context: RoutedCallContext, method: string, request: object, options: RoutedCallOptions): Promise<Response> {
  const definition = grpcDefinitions().inference[method];
  if (definition === undefined) throw new TriageError('INTERNAL', `GRPCInferenceService has no method ${method}`);
  const bytes = definition.requestSerialize(request);
  const peek = peekInferRequest(bytes);
  if (peek === null) throw new TriageError('INTERNAL', `the ${method} request encoded for the instance cannot be read back`);
  const callOptions = { metadata: new Metadata(), deadline: options.deadline, inference: options.inference === true, ...(options.signal === undefined ? {} : { signal: options.signal }) };
  const reply = await callUpstream(context.pool, context.router, definition.path, bytes, peek, callOptions);
  options.servedBy?.(reply.instance.address);
  return definition.responseDeserialize(reply.response) as Response;
}
