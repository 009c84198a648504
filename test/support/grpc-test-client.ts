import { Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { TritonClient } from '../../src/triton/triton-client';

/** The product's own Triton client, with the call style tests use: (method, request, metadata?). */
export class TritonTestClient extends TritonClient {
  /** With `apiKey`, every call carries `authorization: Bearer <key>` unless its metadata sets one. */
  constructor(address: string, maxMessageBytes = 512 * 1024 * 1024, readonly apiKey: string | null = null) {
    super(address, { maxMessageBytes });
  }

  /** Metadata with this client's key (a copy of `metadata` when given). */
  withKey(metadata = new Metadata()): Metadata {
    const copy = metadata.clone();
    if (this.apiKey !== null && copy.get('authorization').length === 0 && copy.get('x-api-key').length === 0) copy.set('authorization', `Bearer ${this.apiKey}`);
    return copy;
  }

  override unary<Response = Record<string, unknown>>(method: string, request: unknown, metadata: Metadata | { metadata?: Metadata; timeoutMs?: number } = new Metadata(), service: Client | 'inference' | 'health' = 'inference'): Promise<Response> {
    const given = metadata instanceof Metadata ? { metadata, timeoutMs: 60_000 } : { timeoutMs: 60_000, ...metadata };
    const options = { ...given, metadata: this.withKey(given.metadata ?? new Metadata()) };
    const which = service === this.health ? 'health' : service === this.inference ? 'inference' : service as 'inference' | 'health';
    return super.unary<Response>(method, request, options, which);
  }
}

/** Awaits a call expected to fail and returns its gRPC error. */
export async function grpcError(promise: Promise<unknown>): Promise<ServiceError> {
  try {
    await promise;
  } catch (error) {
    return error as ServiceError;
  }
  throw new Error('the call succeeded but was expected to fail');
}
