import type { ServerWritableStream, UntypedServiceImplementation } from '@grpc/grpc-js';
import { TriageError } from '../errors/triage-error';
import { unaryHandler } from './grpc-unary-handler';
import type { Logger } from '../observability/logger';

const KNOWN_SERVICES = new Set(['', 'inference.GRPCInferenceService']);

/** grpc.health.v1.Health for a server whose readiness is `isReady()`. Watch answers once with the current status. */
export function healthHandlers(isReady: () => boolean, logger: Logger): UntypedServiceImplementation {
  const statusOf = (service: string): 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN' => {
    if (!KNOWN_SERVICES.has(service)) return 'SERVICE_UNKNOWN';
    return isReady() ? 'SERVING' : 'NOT_SERVING';
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
