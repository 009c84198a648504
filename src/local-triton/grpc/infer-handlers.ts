import type { ServerDuplexStream, ServerUnaryCall, UntypedServiceImplementation } from '@grpc/grpc-js';
import { toGrpcStatus } from '../../errors/grpc-error';
import { asTriageError } from '../../errors/triage-error';
import type { ModelInferRequest, ModelInferResponse, ModelStreamInferResponse } from '../../protocol/inference-messages';
import type { Logger } from '../../observability/logger';
import type { InferenceRunner } from '../inference/inference-runner';
import { logHandledError, unaryHandler } from '../../protocol/grpc-unary-handler';

/** ModelInfer and ModelStreamInfer. */
export function inferHandlers(runner: InferenceRunner, logger: Logger): UntypedServiceImplementation {
  return {
    ModelInfer: unaryHandler<ModelInferRequest, ModelInferResponse>(logger, 'ModelInfer',
      (request, call: ServerUnaryCall<ModelInferRequest, ModelInferResponse>) => runner.infer(request, () => call.cancelled)),
    ModelStreamInfer: (call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>) => handleStream(runner, logger, call),
  };
}

/**
 * Each request on the stream runs as it arrives; responses are written as they
 * complete (possibly out of request order, as Triton does; the request id tells them
 * apart). Errors go in-band as error_message and the stream stays open, unless the
 * client opened it with `triton_grpc_error: true`: then the first error ends the
 * stream with its gRPC status. The stream ends after the client half-closes and every
 * accepted request has been answered.
 */
function handleStream(runner: InferenceRunner, logger: Logger, call: ServerDuplexStream<ModelInferRequest, ModelStreamInferResponse>): void {
  const statusOnError = call.metadata.get('triton_grpc_error').some((value) => String(value).toLowerCase() === 'true');
  let inFlight = 0;
  let clientDone = false;
  let ended = false;
  const isCancelled = (): boolean => call.cancelled || ended;
  const finishIfDone = (): void => {
    if (clientDone && inFlight === 0 && !ended) {
      ended = true;
      call.end();
    }
  };
  call.on('data', (request: ModelInferRequest) => {
    if (ended) return;
    inFlight += 1;
    runner.infer(request, isCancelled).then(
      (response) => {
        if (!ended && !call.cancelled) call.write({ error_message: '', infer_response: response });
      },
      (error: unknown) => {
        logHandledError(logger, 'ModelStreamInfer', error);
        if (ended || call.cancelled) return;
        if (statusOnError) {
          ended = true;
          call.emit('error', toGrpcStatus(error));
          return;
        }
        call.write({ error_message: asTriageError(error).message, infer_response: null });
      },
    ).finally(() => {
      inFlight -= 1;
      finishIfDone();
    });
  });
  call.on('end', () => {
    clientDone = true;
    finishIfDone();
  });
  call.on('cancelled', () => { ended = true; });
  call.on('error', () => { ended = true; });
}
