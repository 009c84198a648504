import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { TriageError } from '../../errors/triage-error';
import { unaryHandler } from '../../protocol/grpc-unary-handler';
import type { Logger } from '../../observability/logger';

const MODEL_CONTROL = 'model control goes through triage\'s admin API (/v1/models), not the inference port: the repository API is closed here';
const SHARED_MEMORY = 'shared memory is not available through triage (the client and the Triton instances do not share a host): send tensors in the request';
const SETTINGS = 'trace and log settings of the Triton instances are managed by operators through triage\'s admin API, not the inference port';

/**
 * Repository, shared-memory, trace and log RPCs are not open on the public port: each
 * answers with a status that says why and where to go instead.
 */
export function closedHandlers(logger: Logger): UntypedServiceImplementation {
  const refuse = (method: string, code: 'PERMISSION_DENIED' | 'UNIMPLEMENTED', message: string) =>
    unaryHandler(logger, method, () => { throw new TriageError(code, message); });
  const handlers: UntypedServiceImplementation = {};
  for (const method of ['RepositoryIndex', 'RepositoryModelLoad', 'RepositoryModelUnload']) handlers[method] = refuse(method, 'PERMISSION_DENIED', MODEL_CONTROL);
  for (const kind of ['SystemSharedMemory', 'CudaSharedMemory']) {
    for (const action of ['Status', 'Register', 'Unregister']) handlers[`${kind}${action}`] = refuse(`${kind}${action}`, 'UNIMPLEMENTED', SHARED_MEMORY);
  }
  handlers['TraceSetting'] = refuse('TraceSetting', 'PERMISSION_DENIED', SETTINGS);
  handlers['LogSettings'] = refuse('LogSettings', 'PERMISSION_DENIED', SETTINGS);
  return handlers;
}
