import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import type { Logger } from '../../observability/logger';
import type { ModelManager } from '../models/model-manager';
import { unaryHandler } from '../../protocol/grpc-unary-handler';

export interface ServerIdentity {
  readonly name: string;
  readonly version: string;
  readonly extensions: readonly string[];
}

/** ServerLive, ServerReady, ServerMetadata. */
export function serverHandlers(models: ModelManager, identity: ServerIdentity, logger: Logger): UntypedServiceImplementation {
  return {
    ServerLive: unaryHandler(logger, 'ServerLive', () => ({ live: true })),
    ServerReady: unaryHandler(logger, 'ServerReady', () => ({ ready: models.isServerReady() })),
    ServerMetadata: unaryHandler(logger, 'ServerMetadata', () => ({
      name: identity.name,
      version: identity.version,
      extensions: [...identity.extensions],
    })),
  };
}
