/**
 * The layout of the traffic series in Redis: one hash per time step (`<prefix>traffic:<step
 * start in seconds>`), fields `<scope>|<figure>`, where the scope is `*` (every call) or
 * `t:<tenant id>`, and the figure is `r` (requests), `e` (failed), `q` (refused by a quota)
 * or `l<i>` (calls whose latency fell in bucket i of LATENCY_BOUNDS_MS).
 */
export const TRAFFIC_STEP_SECONDS = 10;

/** How long a step's hash lives: the longest window the overview shows, plus a step. */
export const TRAFFIC_KEEP_SECONDS = 3600 + 2 * TRAFFIC_STEP_SECONDS;

export const ALL_SCOPE = '*';

export function tenantScope(tenantId: string): string {
  return `t:${tenantId}`;
}

export function trafficField(scope: string, figure: string): string {
  return `${scope}|${figure}`;
}

/** The start (epoch seconds) of the step holding a time. */
export function stepOf(epochMs: number): number {
  const seconds = Math.floor(epochMs / 1000);
  return seconds - (seconds % TRAFFIC_STEP_SECONDS);
}
