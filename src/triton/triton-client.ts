import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { grpcDefinitions } from '../protocol/grpc-definitions';
import { grpcChannelOptions } from '../protocol/grpc-options';

type UnaryMethod = (
  request: unknown,
  metadata: Metadata,
  options: { deadline?: Date },
  callback: (error: ServiceError | null, response: unknown) => void,
) => void;

export interface CallOptions {
  readonly metadata?: Metadata;
  /** Milliseconds until the call's deadline. */
  readonly timeoutMs?: number;
}

export interface TritonClientOptions {
  readonly maxMessageBytes: number;
  /** Reconnect quickly after the server comes back (250 ms doubling to 2 s) instead of grpc-js's 1 s to 120 s. */
  readonly reconnect?: boolean;
}

/**
 * A client of one Triton server (or local-triton, or triage itself): the
 * inference.GRPCInferenceService and grpc.health.v1.Health services over one address,
 * with promise-returning unary calls. Messages use the decoded form of our proto loader.
 */
export class TritonClient {
  readonly inference: Client;
  readonly health: Client;

  constructor(readonly address: string, options: TritonClientOptions) {
    const { clients } = grpcDefinitions();
    const channelOptions = grpcChannelOptions({ maxMessageBytes: options.maxMessageBytes, fastReconnect: options.reconnect === true });
    const inference = (clients['inference'] as Record<string, unknown>)['GRPCInferenceService'] as new (...args: unknown[]) => Client;
    const healthPackage = ((clients['grpc'] as Record<string, unknown>)['health'] as Record<string, unknown>)['v1'] as Record<string, unknown>;
    const health = healthPackage['Health'] as new (...args: unknown[]) => Client;
    this.inference = new inference(address, credentials.createInsecure(), channelOptions);
    this.health = new health(address, credentials.createInsecure(), { ...channelOptions, channelOverride: this.inference.getChannel() });
  }

  /** Calls a unary RPC of GRPCInferenceService (or of Health with `service: 'health'`). */
  unary<Response = Record<string, unknown>>(method: string, request: unknown, options: CallOptions = {}, service: 'inference' | 'health' = 'inference'): Promise<Response> {
    const client = service === 'inference' ? this.inference : this.health;
    const fn = (client as unknown as Record<string, UnaryMethod | undefined>)[method];
    if (fn === undefined) return Promise.reject(new Error(`${service} service has no method ${method}`));
    const deadline = options.timeoutMs === undefined ? {} : { deadline: new Date(Date.now() + options.timeoutMs) };
    return new Promise((resolve, reject) => {
      fn.call(client, request, options.metadata ?? new Metadata(), deadline, (error, response) => {
        if (error !== null) reject(error);
        else resolve(response as Response);
      });
    });
  }

  close(): void {
    this.health.close();
    this.inference.close();
  }
}
