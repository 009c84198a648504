import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { TriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import { unaryHandler } from '../../protocol/grpc-unary-handler';

interface SettingsRequest {
  settings: Record<string, unknown>;
}

const NO_SHARED_MEMORY = 'shared memory is not supported by local-triton: send tensors in the request';

/** Triton's trace settings with tracing off, as a server without tracing reports them. */
const TRACE_SETTINGS = {
  trace_file: [''],
  trace_level: ['OFF'],
  trace_rate: ['1000'],
  trace_count: ['-1'],
  log_frequency: ['0'],
  trace_mode: ['triton'],
};

const LOG_SETTINGS = {
  log_file: { string_param: '' },
  log_info: { bool_param: true },
  log_warning: { bool_param: true },
  log_error: { bool_param: true },
  log_verbose_level: { uint32_param: 0 },
  log_format: { string_param: 'default' },
};

/**
 * Shared-memory, trace and log RPCs: status queries answer the truth (no regions, tracing
 * off, default log settings); anything that would change state is UNIMPLEMENTED.
 */
export function unsupportedHandlers(logger: Logger): UntypedServiceImplementation {
  const emptyRegions = (): unknown => ({ regions: {} });
  const refuse = (): never => { throw new TriageError('UNIMPLEMENTED', NO_SHARED_MEMORY); };
  // Triton's SharedMemoryManager::Unregister succeeds for a name that is not registered; none ever is here.
  const unregister = (): unknown => ({});
  return {
    SystemSharedMemoryStatus: unaryHandler(logger, 'SystemSharedMemoryStatus', emptyRegions),
    SystemSharedMemoryRegister: unaryHandler(logger, 'SystemSharedMemoryRegister', refuse),
    SystemSharedMemoryUnregister: unaryHandler(logger, 'SystemSharedMemoryUnregister', unregister),
    CudaSharedMemoryStatus: unaryHandler(logger, 'CudaSharedMemoryStatus', emptyRegions),
    CudaSharedMemoryRegister: unaryHandler(logger, 'CudaSharedMemoryRegister', refuse),
    CudaSharedMemoryUnregister: unaryHandler(logger, 'CudaSharedMemoryUnregister', unregister),
    TraceSetting: unaryHandler<SettingsRequest, unknown>(logger, 'TraceSetting', (request) => {
      if (Object.keys(request.settings).length > 0) throw new TriageError('UNIMPLEMENTED', 'tracing is not supported by local-triton');
      return { settings: Object.fromEntries(Object.entries(TRACE_SETTINGS).map(([key, value]) => [key, { value }])) };
    }),
    LogSettings: unaryHandler<SettingsRequest, unknown>(logger, 'LogSettings', (request) => {
      if (Object.keys(request.settings).length > 0) throw new TriageError('UNIMPLEMENTED', 'changing log settings is not supported by local-triton; use --log-level');
      return { settings: LOG_SETTINGS };
    }),
  };
}
