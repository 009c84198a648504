import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { TriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import type { ModelManager } from '../models/model-manager';
import { unaryHandler } from './unary-handler';

type ServingStatus = 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

const KNOWN_SERVICES = new Set(['', 'inference.GRPCInferenceService']);

/** grpc.health.v1.Health: SERVING when the server is ready. Watch answers once with the current status. */
export function healthHandlers(models: ModelManager, logger: Logger): UntypedServiceImplementation {
  const statusOf = (service: string): ServingStatus => {
    if (!KNOWN_SERVICES.has(service)) return 'SERVICE_UNKNOWN';
    return models.isServerReady() ? 'SERVING' : 'NOT_SERVING';
  };
  return {
    // The health protocol: Check on an unknown service is NOT_FOUND; Watch reports SERVICE_UNKNOWN.
    Check: unaryHandler<{ service: string }, unknown>(logger, 'Check', (request) => {
      const status = statusOf(request.service);
      if (status === 'SERVICE_UNKNOWN') throw new TriageError('NOT_FOUND', `unknown service '${request.service}'`);
      return { status };
    }),
    Watch: (call: ServerWritableStream<{ service: string }, unknown>) => {
      call.write({ status: statusOf(call.request.service) });
      call.end();
    },
  };
}
