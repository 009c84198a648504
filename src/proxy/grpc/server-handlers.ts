import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { unaryHandler } from '../../protocol/grpc-unary-handler';
import type { Logger } from '../../observability/logger';
import type { InstancePool } from '../../triton/instance-pool';

/** Extensions that name APIs triage does not open on its public port. */
const CLOSED_EXTENSIONS = new Set(['model_repository', 'model_repository(unload_dependents)', 'system_shared_memory', 'cuda_shared_memory', 'trace', 'logging']);

/** Extensions triage itself adds on top of its instances (the REST binary tensor format). */
const OWN_EXTENSIONS = ['binary_tensor_data'];

/**
 * ServerLive, ServerReady, ServerMetadata: triage's own view. Live while the process
 * serves; ready when at least one instance is healthy and ready; extensions are those of
 * its healthy instances, minus the APIs closed on the public port.
 */
export function proxyServerHandlers(pool: InstancePool, version: string, logger: Logger): UntypedServiceImplementation {
  return {
    ServerLive: unaryHandler(logger, 'ServerLive', () => ({ live: true })),
    ServerReady: unaryHandler(logger, 'ServerReady', () => ({ ready: pool.isReady() })),
    ServerMetadata: unaryHandler(logger, 'ServerMetadata', () => serverMetadata(pool, version)),
  };
}

/** triage's ServerMetadata, on the gRPC port and on REST `GET /v2`. */
export function serverMetadata(pool: InstancePool, version: string): { name: string; version: string; extensions: string[] } {
  const extensions = new Set(OWN_EXTENSIONS);
  for (const instance of pool.list()) {
    if (!instance.isRoutable()) continue;
    for (const extension of instance.extensions) if (!CLOSED_EXTENSIONS.has(extension)) extensions.add(extension);
  }
  return { name: 'triage', version, extensions: [...extensions].sort() };
}
