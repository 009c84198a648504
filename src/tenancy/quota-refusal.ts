import { TriageError } from '../errors/triage-error';

/** The x-ratelimit-* figures of the limit that refused (or of the request rate, on success). */
export interface RateFigures {
  readonly limit: number;
  readonly remaining: number;
  /** Milliseconds until the limit is fully available again. */
  readonly resetMs: number;
}

/**
 * A request refused by a quota. The front doors turn it into RESOURCE_EXHAUSTED / 429
 * with `retry-after-ms` and `x-ratelimit-*` metadata; a budget carries no retry time.
 */
export class QuotaRefusal extends TriageError {
  /**
   * `limit`: the quota field that refused (`requests_per_second`, `max_concurrent`,
   * `daily_inferences`, `max_request_bytes`, `max_rows_per_job`, ...), a bounded set, for metrics.
   */
  constructor(readonly limit: string, message: string, readonly retryAfterMs: number | null, readonly figures: RateFigures | null, budget: boolean) {
    super(budget ? 'BUDGET_EXHAUSTED' : 'QUOTA_EXCEEDED', message);
  }

  /** gRPC metadata / HTTP headers to send with the refusal. */
  headers(): Record<string, string> {
    const headers: Record<string, string> = {};
    if (this.retryAfterMs !== null) headers['retry-after-ms'] = String(this.retryAfterMs);
    if (this.figures !== null) {
      headers['x-ratelimit-limit'] = String(this.figures.limit);
      headers['x-ratelimit-remaining'] = String(this.figures.remaining);
      if (this.figures.resetMs >= 0) headers['x-ratelimit-reset'] = String(this.figures.resetMs);
    }
    return headers;
  }
}
