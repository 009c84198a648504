import { loadPackageDefinition, type ServiceDefinition, type GrpcObject } from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { protoDirectory } from './project-paths';

/**
 * How our protos are decoded everywhere: proto field names (snake_case, as on Triton's
 * JSON), enums as names, 64-bit integers as decimal strings (lossless), defaults
 * filled in, and the name of the set member of each oneof.
 */
export const PROTO_LOAD_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
};

export interface GrpcDefinitions {
  /** inference.GRPCInferenceService */
  readonly inference: ServiceDefinition;
  /** grpc.health.v1.Health */
  readonly health: ServiceDefinition;
  /** Client constructors, e.g. clients.inference.GRPCInferenceService. */
  readonly clients: GrpcObject;
}

let cached: GrpcDefinitions | undefined;

export function grpcDefinitions(): GrpcDefinitions {
  if (cached !== undefined) return cached;
  const packageDefinition = loadSync(['grpc_service.proto', 'health.proto'], {
    ...PROTO_LOAD_OPTIONS,
    includeDirs: [protoDirectory()],
  });
  const inference = packageDefinition['inference.GRPCInferenceService'];
  const health = packageDefinition['grpc.health.v1.Health'];
  if (inference === undefined || health === undefined) {
    throw new Error('proto/ does not define inference.GRPCInferenceService and grpc.health.v1.Health');
  }
  cached = {
    inference: inference as ServiceDefinition,
    health: health as ServiceDefinition,
    clients: loadPackageDefinition(packageDefinition),
  };
  return cached;
}
