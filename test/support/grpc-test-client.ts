import { credentials, Metadata, type Client, type ServiceError } from '@grpc/grpc-js';
import { grpcDefinitions } from '../../src/protocol/grpc-definitions';
import { grpcChannelOptions } from '../../src/protocol/grpc-options';

type UnaryMethod = (request: unknown, metadata: Metadata, options: { deadline?: Date }, callback: (error: ServiceError | null, response: unknown) => void) => void;

/**
 * A client of inference.GRPCInferenceService and grpc.health.v1.Health built from our
 * protos, the way any Triton client talks to a server. `unary` promisifies a call.
 */
export class TritonTestClient {
  readonly inference: Client;
  readonly health: Client;

  constructor(address: string, maxMessageBytes = 512 * 1024 * 1024) {
    const { clients } = grpcDefinitions();
    const options = grpcChannelOptions({ maxMessageBytes });
    const InferenceClient = (clients['inference'] as Record<string, unknown>)['GRPCInferenceService'] as new (...args: unknown[]) => Client;
    const health = ((clients['grpc'] as Record<string, unknown>)['health'] as Record<string, unknown>)['v1'] as Record<string, unknown>;
    const HealthClient = health['Health'] as new (...args: unknown[]) => Client;
    this.inference = new InferenceClient(address, credentials.createInsecure(), options);
    this.health = new HealthClient(address, credentials.createInsecure(), options);
  }

  unary<Response = Record<string, unknown>>(method: string, request: unknown, metadata = new Metadata(), client: Client = this.inference): Promise<Response> {
    const fn = (client as unknown as Record<string, UnaryMethod>)[method];
    if (fn === undefined) throw new Error(`no method ${method}`);
    return new Promise((resolve, reject) => {
      fn.call(client, request, metadata, { deadline: new Date(Date.now() + 60_000) }, (error, response) => {
        if (error !== null) reject(error);
        else resolve(response as Response);
      });
    });
  }

  close(): void {
    this.inference.close();
    this.health.close();
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
