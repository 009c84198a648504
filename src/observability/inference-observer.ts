/**
 * What the front doors report about every inference call once it has ended, admitted or
 * refused, on either protocol. Metadata only: never a payload byte, never a key.
 * Consumers (metrics, the inference audit stream, the dashboard's traffic series) must
 * be cheap and must not throw: they run on the hot path, after the client has its answer.
 */
export interface InferenceOutcome {
  readonly protocol: 'grpc' | 'http';
  /** `ModelInfer` or `ModelStreamInfer` on gRPC; `infer` on REST. */
  readonly rpc: string;
  /** The caller's tenant, or null when the call was refused before its key was known (missing or wrong key). */
  readonly tenantId: string | null;
  readonly keyId: string | null;
  /** The model named in the request ('' when the request could not be read). */
  readonly model: string;
  /** The version asked for ('' = the latest the instance serves). */
  readonly version: string;
  /** The client's `x-request-id` (header or metadata, at most 128 characters) or one triage made up. */
  readonly requestId: string;
  /**
   * How it ended: the gRPC status name (`OK`, `RESOURCE_EXHAUSTED`, ...) on gRPC, the HTTP
   * status as a string (`200`, `429`, ...) on REST.
   */
  readonly code: string;
  /** True when the call failed (anything but OK / 2xx). */
  readonly failed: boolean;
  /** The quota that refused the call (`requests_per_second`, `max_concurrent`, ...), else null. */
  readonly refusedBy: string | null;
  /** Milliseconds from the call's arrival to its end, in triage. */
  readonly latencyMs: number;
  /** Milliseconds the instance took (from the upstream call's start to its end), or null when nothing was sent upstream. */
  readonly upstreamMs: number | null;
  /** The instance (host:port) that served the call, or null. */
  readonly instance: string | null;
  /** Bytes received from the client and sent back to it (gRPC frames, or HTTP bodies). */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** When the call arrived (epoch milliseconds). */
  readonly startedMs: number;
}

export interface InferenceObserver {
  observe(outcome: InferenceOutcome): void;
}

/** Reports to nobody (tests and tools that do not care). */
export const NO_INFERENCE_OBSERVER: InferenceObserver = { observe: () => undefined };

/** Fans one outcome out to every consumer; a consumer that throws does not stop the others. */
export class InferenceObservers implements InferenceObserver {
  private readonly consumers: InferenceObserver[] = [];

  add(consumer: InferenceObserver): void {
    this.consumers.push(consumer);
  }

  observe(outcome: InferenceOutcome): void {
    for (const consumer of this.consumers) {
      try {
        consumer.observe(outcome);
      } catch {
        // Observation never fails a call; each consumer reports its own trouble.
      }
    }
  }
}
