import { status } from '@grpc/grpc-js';
import type { IncomingHttpHeaders, ServerHttp2Stream } from 'node:http2';
import { gunzipSync, inflateSync } from 'node:zlib';
import { TriageError } from '../../errors/triage-error';
import { peekInferRequest, peekInferRequestPrefix, type InferRequestPeek } from '../../protocol/infer-request-peek';
import { encodeUint64Parameter } from '../../protocol/wire-writer';
import { requireScope } from '../../tenancy/authenticator';
import { modelAllowed } from '../../tenancy/quota-config';
import type { Admission } from '../../tenancy/quota-admission';
import type { Principal } from '../../tenancy/tenancy-records';
import type { TritonInstance } from '../../triton/triton-instance';
import type { FrontDoorOptions } from './h2-front-door';
import type { FirstMessage } from './grpc-frame-scanner';
import { replyEmptyMessage, replyStatus } from './grpc-status-reply';
import { grpcDeadlineMs } from './grpc-timeout';
import { header } from './local-routing';
import { andThen } from './maybe-async';
import type { CallRouting, CallSummary, CallTarget } from './proxied-call';
import { requestIdOf } from '../request-id';

const SERVICE = '/inference.GRPCInferenceService/';
const MODEL_READY = `${SERVICE}ModelReady`;
const MODEL_STREAM_INFER = `${SERVICE}ModelStreamInfer`;
const INFERENCE_METHODS = new Set([`${SERVICE}ModelInfer`, MODEL_STREAM_INFER]);

/** gRPC status names by code (`OK`, `RESOURCE_EXHAUSTED`, ...), for metrics and audit. */
const GRPC_STATUS_NAMES: Readonly<Record<number, string>> = Object.fromEntries(
  Object.entries(status).filter(([, code]) => typeof code === 'number').map(([name, code]) => [code as number, name]),
);

/** Encoded `priority` parameters, one per level, built once. */
const priorityParameters = new Map<number, Buffer>();

/**
 * Routing of a model call: read the first message's routing fields; authenticate the
 * key (scope `infer`, or `read` for metadata); check the tenant may use the model; for
 * inference, admit the request against the tenant's quotas (one Redis round trip, none
 * without quotas) and append its priority; pick the instance. Each step is synchronous
 * when its answer is already known. While Redis answers, the call is already relayed to
 * its instance behind a gate (CallTarget.gate: the instance cannot run it before it is
 * admitted) when QuotaAdmission.admitRelaying allows it and an instance holds the model.
 * ModelReady answers "not ready" itself when no instance serves the model, as Triton
 * answers for a model it does not have.
 *
 * Invariant: an admission is released exactly once, also when it arrives after the call
 * ended (the client left while Redis answered).
 */
export function modelRouting(options: FrontDoorOptions, path: string, stream: ServerHttp2Stream, headers: IncomingHttpHeaders): CallRouting {
  const { authenticator, admission, meter } = options.tenancy;
  const inference = INFERENCE_METHODS.has(path);
  let peek: InferRequestPeek | null = null;
  let chosen: TritonInstance | null = null;
  let principal: Principal | null = null;
  let admitted: Admission | null = null;
  let inferences = 1;
  const startedMs = Date.now();
  const startedAt = performance.now();
  /** The status of an answer the routing layer gave itself (no instance involved), else null. */
  let ownAnswer: status | null = null;

  /** The model's use is recorded once, when the call is admitted (a refused call is no use of it). */
  let useRecorded = false;
  let gatePending = false;
  const recordUse = (): void => {
    if (useRecorded || !inference || peek === null) return;
    useRecorded = true;
    options.router.recordUse(peek.modelName, startedMs);
  };
  const targetOf = (instance: TritonInstance, gate?: Promise<void>): CallTarget => {
    chosen = instance;
    if (gate !== undefined) gatePending = true;
    // A retry elsewhere (no gate of its own) while the first target's gate is still closed waits for it too.
    if (gate === undefined && !gatePending) recordUse();
    const priority = inference ? principal?.quotas.priority ?? 0 : 0;
    return {
      address: instance.address,
      ...(gate === undefined ? {} : { gate: gate.then(() => { gatePending = false; recordUse(); }, (error: unknown) => { gatePending = false; throw error; }) }),
      appendToMessages: priority > 0 ? priorityParameter(priority) : null,
      started: () => {
        upstreamStarted = true;
        instance.outstanding += 1;
      },
      finished: (result) => {
        instance.outstanding -= 1;
        settle(result.bytesIn, result.bytesOut, result.status !== status.OK);
      },
    };
  };

  /**
   * Releases the admission and meters the call, exactly once, however it ended. Only an
   * admitted call is metered (as on REST): a refusal (key, scope, model, quota) is not usage.
   */
  let settled = false;
  const settle = (bytesIn: number, bytesOut: number, error: boolean): void => {
    if (settled) return;
    settled = true;
    admitted?.release();
    if (inference && admitted !== null && principal !== null && peek !== null) {
      meter.record(principal.tenantId, peek.modelName, { inferences, bytesIn, bytesOut, error, latencyMs: Date.now() - startedMs });
    }
  };
  // A call refused, cut or failed before an upstream stream opened (no `finished` will come)
  // still releases its admission; one that arrives later is released by `take`.
  let upstreamStarted = false;
  stream.once('close', () => { if (!upstreamStarted) settle(0, 0, true); });
  /** Keeps the admission; one that arrives after the call was settled (the client left meanwhile) is given back at once. */
  const take = (ticket: Admission | null): void => {
    admitted = ticket;
    if (settled) ticket?.release();
  };

  const ended = (summary: CallSummary): void => {
    const code = ownAnswer ?? summary.status;
    const who = principal as Principal | null;
    const read = peek as InferRequestPeek | null;
    options.observer.observe({
      protocol: 'grpc',
      rpc: path.slice(SERVICE.length),
      tenantId: who?.tenantId ?? null,
      keyId: who?.keyId ?? null,
      model: read?.modelName ?? '',
      version: read?.modelVersion ?? '',
      requestId: requestIdOf(headers['x-request-id']),
      code: GRPC_STATUS_NAMES[code] ?? String(code),
      failed: code !== status.OK,
      refusedBy: summary.refusedBy,
      latencyMs: performance.now() - startedAt,
      upstreamMs: summary.upstreamMs,
      instance: summary.refusedBy === null && !summary.gateRefused ? (chosen as TritonInstance | null)?.address ?? null : null,
      bytesIn: summary.bytesIn,
      bytesOut: summary.bytesOut,
      startedMs,
    });
  };

  return {
    ...(inference ? { ended } : {}),
    needsFirstMessage: true,
    choose: (first: FirstMessage | null, clientEnded: boolean) => {
      const message = first as FirstMessage;
      if (clientEnded && message.byteLength === 0) {
        // A stream may carry no message at all; a unary call must carry one.
        ownAnswer = path === MODEL_STREAM_INFER ? status.OK : status.INVALID_ARGUMENT;
        if (path === MODEL_STREAM_INFER) replyStatus(stream, status.OK, '');
        else replyStatus(stream, status.INVALID_ARGUMENT, 'the call carried no request message');
        return Promise.resolve(null);
      }
      const read = readPeek(message, headers, clientEnded);
      if (read === 'more') return 'more';
      if (read === null) throw new TriageError('INVALID_ARGUMENT', 'the request is not a valid protobuf message (or its compression is not gzip or deflate)');
      peek = read;
      const model = read.modelName;
      return andThen(authenticator.authenticate(header(headers['authorization']), header(headers['x-api-key'])), (who) => {
        principal = who;
        if (inference || !who.scopes.has('read')) requireScope(who, 'infer');
        if (model !== '' && !modelAllowed(who.quotas, model)) {
          throw new TriageError('PERMISSION_DENIED', `tenant ${who.tenantId} may not use model '${model}' (allowed_models of its quotas)`);
        }
        if (inference) {
          const batch = options.pool.maxBatchSize(model);
          inferences = batch > 0 && read.firstInputDim > 0 ? read.firstInputDim : 1;
        }
        const admitting = inference ? admission.admitRelaying(who.tenantId, who.quotas, model, inferences, message.header()?.length ?? 0) : null;
        const admittedOrNot = admitting?.admission ?? null;
        if (admittedOrNot instanceof Promise && admitting?.relay === true) {
          // The instance is contacted while Redis answers; it gets the whole request only once admitted.
          const instance = options.router.tryRoute(read);
          if (!(instance instanceof TriageError)) return targetOf(instance, admittedOrNot.then(take));
        }
        return andThen(admittedOrNot, (ticket) => {
          take(ticket);
          if (settled) return null;
          const immediate = options.router.tryRoute(read);
          if (!(immediate instanceof TriageError)) return targetOf(immediate);
          // No instance holds the model: an inference may wait for its on-demand load, within its deadline.
          const inferenceDeadlineMs = inference ? grpcDeadlineMs(headers['grpc-timeout'], startedMs) : null;
          return options.router.routeAfterRefresh(read, immediate, inferenceDeadlineMs).then(targetOf, (error: unknown) => {
            if (path === MODEL_READY && error instanceof TriageError) {
              ownAnswer = status.OK;
              replyEmptyMessage(stream);
              return null;
            }
            throw error;
          });
        });
      });
    },
    unreachable: (_target: CallTarget, reason: string) => {
      if (chosen === null || peek === null) return null;
      options.pool.reportUnreachable(chosen, reason);
      const next = options.router.tryRoute(peek, chosen);
      return next instanceof Error ? null : targetOf(next);
    },
  };
}

function priorityParameter(level: number): Buffer {
  let encoded = priorityParameters.get(level);
  if (encoded === undefined) {
    encoded = encodeUint64Parameter('priority', level);
    priorityParameters.set(level, encoded);
  }
  return encoded;
}

/**
 * The routing fields of the first message: read from its beginning when it is not
 * compressed; a compressed message is read whole and inflated (gzip or deflate, per
 * grpc-encoding), while the original bytes are what gets forwarded.
 */
function readPeek(first: FirstMessage, headers: IncomingHttpHeaders, clientEnded: boolean): InferRequestPeek | null | 'more' {
  const frame = first.header();
  if (frame === null) return clientEnded ? null : 'more';
  if (!frame.compressed) {
    const read = peekInferRequestPrefix(first.body(frame.length), frame.length);
    return read === 'more' && clientEnded ? null : read;
  }
  if (first.byteLength < 5 + frame.length) return clientEnded ? null : 'more';
  try {
    const body = first.body(frame.length);
    const encoding = headers['grpc-encoding'];
    const inflated = encoding === 'gzip' ? gunzipSync(body) : encoding === 'deflate' ? inflateSync(body) : null;
    return inflated === null ? null : peekInferRequest(inflated);
  } catch {
    return null;
  }
}
