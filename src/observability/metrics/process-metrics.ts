import { collectDefaultMetrics, Registry } from 'prom-client';
import { PROCESS_METRIC_PREFIX } from './metric-names';

let processRegistry: Registry | null = null;

/**
 * The Node process metrics (CPU, memory, heap, event loop lag, GC, handles) with the
 * `triage_` prefix, in a registry of their own that every triage of this process shows
 * on its /metrics next to its own registry.
 *
 * Made once per process, deliberately: collectDefaultMetrics starts an event-loop delay
 * monitor and a GC observer that prom-client gives no way to stop (they hold no handle,
 * and v15 keeps no timer: figures are read at scrape time). One set per triage would pile
 * up in a process that starts many (the tests), and what they describe is the process
 * anyway. The counters of each triage live in its own registry (startMetrics), never
 * in prom-client's global one.
 */
export function processMetricsRegistry(): Registry {
  if (processRegistry === null) {
    processRegistry = new Registry();
    collectDefaultMetrics({ register: processRegistry, prefix: PROCESS_METRIC_PREFIX });
  }
  return processRegistry;
}
