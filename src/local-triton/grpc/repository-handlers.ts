import type { UntypedServiceImplementation } from '@grpc/grpc-js';
import { TriageError } from '../../errors/triage-error';
import type { Logger } from '../../observability/logger';
import type { LoadOverrides } from '../models/load-overrides';
import type { ModelManager } from '../models/model-manager';
import { unaryHandler } from '../../protocol/grpc-unary-handler';

interface RepositoryParameter {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'bytes_param';
  bool_param?: boolean;
  string_param?: string;
  bytes_param?: Buffer;
}

interface RepositoryModelRequest {
  repository_name: string;
  model_name: string;
  parameters: Record<string, RepositoryParameter>;
}

/** RepositoryIndex, RepositoryModelLoad, RepositoryModelUnload. */
export function repositoryHandlers(models: ModelManager, logger: Logger): UntypedServiceImplementation {
  return {
    RepositoryIndex: unaryHandler<{ repository_name: string; ready: boolean }, unknown>(logger, 'RepositoryIndex', async (request) => {
      checkRepositoryName(request.repository_name);
      return { models: await models.index(request.ready) };
    }),

    RepositoryModelLoad: unaryHandler<RepositoryModelRequest, unknown>(logger, 'RepositoryModelLoad', async (request) => {
      checkRepositoryName(request.repository_name);
      await models.load(request.model_name, loadOverrides(request.parameters));
      return {};
    }),

    RepositoryModelUnload: unaryHandler<RepositoryModelRequest, unknown>(logger, 'RepositoryModelUnload', async (request) => {
      checkRepositoryName(request.repository_name);
      for (const [key, parameter] of Object.entries(request.parameters)) {
        if (key !== 'unload_dependents') throw new TriageError('INVALID_ARGUMENT', `unrecognized unload parameter '${key}'`);
        if (parameter.parameter_choice !== 'bool_param') throw new TriageError('INVALID_ARGUMENT', "invalid value type for 'unload_dependents' parameter, expected bool_param");
      }
      await models.unload(request.model_name);
      return {};
    }),
  };
}

function checkRepositoryName(name: string): void {
  if (name !== '') throw new TriageError('UNIMPLEMENTED', "'repository_name' specification is not supported");
}

/** The load parameters Triton accepts: `config` (string, JSON) and `file:<path>` (bytes). */
function loadOverrides(parameters: Record<string, RepositoryParameter>): LoadOverrides {
  let configJson: string | undefined;
  const files = new Map<string, Buffer>();
  for (const [key, parameter] of Object.entries(parameters)) {
    if (key === 'config') {
      if (parameter.parameter_choice !== 'string_param') throw new TriageError('INVALID_ARGUMENT', "invalid value type for load parameter 'config', expected string_param");
      configJson = parameter.string_param ?? '';
    } else if (key.startsWith('file:')) {
      if (parameter.parameter_choice !== 'bytes_param') throw new TriageError('INVALID_ARGUMENT', `invalid value type for load parameter '${key}', expected bytes_param`);
      files.set(key.slice('file:'.length), parameter.bytes_param ?? Buffer.alloc(0));
    } else {
      throw new TriageError('INVALID_ARGUMENT', `unrecognized load parameter '${key}'`);
    }
  }
  return configJson === undefined ? { files } : { configJson, files };
}
