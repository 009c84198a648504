import type { LoggedRequest } from './h2load';

export interface WindowFigures {
  /** Requests answered with HTTP 200 that ended in the window, per second. */
  readonly requestsPerSecond: number;
  readonly requests: number;
  /** Their request times, in microseconds. */
  readonly latenciesUs: number[];
}

/**
 * Throughput and latencies of the requests that ended in [fromUs, toUs) (microseconds
 * since the epoch). Counting by end time samples a closed loop in its steady state: a
 * request that started in the warm-up counts, one still in flight at the end does not,
 * and long requests are not under-represented.
 */
export function requestsEndingIn(requests: readonly LoggedRequest[], fromUs: number, toUs: number): WindowFigures {
  const latenciesUs: number[] = [];
  for (const request of requests) {
    const endUs = request.startUs + request.durationUs;
    if (request.status === 200 && endUs >= fromUs && endUs < toUs) latenciesUs.push(request.durationUs);
  }
  return { requestsPerSecond: latenciesUs.length / ((toUs - fromUs) / 1e6), requests: latenciesUs.length, latenciesUs };
}
