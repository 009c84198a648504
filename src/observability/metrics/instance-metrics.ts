import { Gauge, type Registry } from 'prom-client';
import type { InstancePool } from '../../triton/instance-pool';
import { METRIC } from './metric-names';

/**
 * The pool's view of each Triton instance, read at scrape time from memory: up (health
 * probes pass), ready (ServerReady) and the calls triage has in flight on it.
 */
export function registerInstanceMetrics(registry: Registry, pool: Pick<InstancePool, 'list'>): void {
  const registers = [registry];
  new Gauge({
    name: METRIC.instanceUp, help: '1 when the instance passes its health probes (triage routes to it), else 0.', labelNames: ['triton_instance'], registers,
    collect() {
      this.reset();
      for (const instance of pool.list()) this.labels(instance.address).set(instance.health === 'healthy' ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC.instanceReady, help: '1 when the instance last answered ServerReady true, else 0.', labelNames: ['triton_instance'], registers,
    collect() {
      this.reset();
      for (const instance of pool.list()) this.labels(instance.address).set(instance.serverReady ? 1 : 0);
    },
  });
  new Gauge({
    name: METRIC.instanceInFlight, help: 'Calls this triage process has in flight on the instance.', labelNames: ['triton_instance'], registers,
    collect() {
      this.reset();
      for (const instance of pool.list()) this.labels(instance.address).set(instance.outstanding);
    },
  });
}
