import type { IncomingHttpHeaders } from 'node:http2';
import { requireScope, type Authenticator } from '../../tenancy/authenticator';
import { andThen } from './maybe-async';
import type { CallRouting, CallTarget } from './proxied-call';

/** Local methods open without a key: liveness, readiness and server metadata (as probes and load balancers call them). */
const OPEN_METHODS = new Set([
  '/inference.GRPCInferenceService/ServerLive',
  '/inference.GRPCInferenceService/ServerReady',
  '/inference.GRPCInferenceService/ServerMetadata',
  '/grpc.health.v1.Health/Check',
  '/grpc.health.v1.Health/Watch',
]);

/** Statistics sum every tenant's traffic: only admins may read them. */
const ADMIN_METHODS = new Set(['/inference.GRPCInferenceService/ModelStatistics']);

/**
 * Methods answered by triage itself: relayed to its own gRPC server whatever the message,
 * after checking the key where one is needed.
 */
export function localRouting(address: string, path: string, headers: IncomingHttpHeaders, authenticator: Authenticator): CallRouting {
  const target: CallTarget = { address, appendToMessages: null, started: () => undefined, finished: () => undefined };
  return {
    needsFirstMessage: false,
    choose: () => {
      if (OPEN_METHODS.has(path)) return target;
      const principal = authenticator.authenticate(header(headers['authorization']), header(headers['x-api-key']));
      return andThen(principal, (resolved) => {
        if (ADMIN_METHODS.has(path)) requireScope(resolved, 'admin');
        return target;
      });
    },
    unreachable: () => null,
  };
}

export function header(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
