import { Counter, Histogram, type Registry } from 'prom-client';
import type { InferenceObserver, InferenceOutcome } from '../inference-observer';
import type { LabelBounds } from './label-bounds';
import { METRIC } from './metric-names';

/** Seconds: 0.5 ms to 30 s, about 2.5x apart (a CPU model answers in a millisecond, a large one on a busy GPU in seconds). */
export const LATENCY_BUCKETS_SECONDS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

/** The label-bound children of one (model, rpc, protocol, code, tenant) tuple. */
interface CallSeries {
  readonly requests: Counter.Internal;
  readonly duration: Histogram.Internal<string>;
  readonly received: Counter.Internal;
  readonly sent: Counter.Internal;
}

/**
 * The inference metrics, fed once per call by the front doors (InferenceObserver): calls
 * by model, rpc, protocol and code (and tenant, when bounded by config), latency in
 * triage and upstream, bytes each way, and quota refusals by limit.
 *
 * observe() is on the hot path: label values are bounded (LabelBounds) and the children
 * of each label tuple are looked up once, then found in a Map by one joined string.
 * Every map is bounded because every label value is.
 */
export class InferenceMetrics implements InferenceObserver {
  private readonly requests: Counter<string>;
  private readonly duration: Histogram<string>;
  private readonly upstream: Histogram<string>;
  private readonly received: Counter<string>;
  private readonly sent: Counter<string>;
  private readonly rejections: Counter<string>;
  private readonly calls = new Map<string, CallSeries>();
  private readonly upstreams = new Map<string, Histogram.Internal<string>>();
  private readonly refusals = new Map<string, Counter.Internal>();

  constructor(registry: Registry, private readonly bounds: LabelBounds) {
    const registers = [registry];
    const tenant = bounds.tenantLabel ? ['tenant'] : [];
    this.requests = new Counter({
      name: METRIC.inferenceRequests, help: 'Inference calls that ended, by model, rpc, protocol and code (gRPC status name or HTTP status).',
      labelNames: ['model', 'rpc', 'protocol', 'code', ...tenant], registers,
    });
    this.duration = new Histogram({
      name: METRIC.inferenceDuration, help: 'Time from a call\'s arrival in triage to its end, refused calls included.',
      labelNames: ['model', 'protocol'], buckets: [...LATENCY_BUCKETS_SECONDS], registers,
    });
    this.upstream = new Histogram({
      name: METRIC.upstreamDuration, help: 'Time an instance took for the calls forwarded to it.',
      labelNames: ['model', 'triton_instance'], buckets: [...LATENCY_BUCKETS_SECONDS], registers,
    });
    this.received = new Counter({ name: METRIC.inferenceReceivedBytes, help: 'Bytes of inference requests received from clients.', labelNames: ['model'], registers });
    this.sent = new Counter({ name: METRIC.inferenceSentBytes, help: 'Bytes of inference answers sent to clients.', labelNames: ['model'], registers });
    this.rejections = new Counter({
      name: METRIC.quotaRejections, help: 'Inference calls refused by a quota, by the limit that refused them.',
      labelNames: ['limit', ...tenant], registers,
    });
  }

  /** Never throws (InferenceObserver's contract): prom-client refuses only non-finite numbers, which are skipped. */
  observe(outcome: InferenceOutcome): void {
    const model = this.bounds.model(outcome.model);
    const tenant = this.bounds.tenantLabel ? this.bounds.tenant(outcome.tenantId) : null;
    const series = this.callSeries(model, outcome.rpc, outcome.protocol, outcome.code, tenant);
    series.requests.inc();
    if (Number.isFinite(outcome.latencyMs)) series.duration.observe(outcome.latencyMs / 1000);
    if (outcome.bytesIn > 0) series.received.inc(outcome.bytesIn);
    if (outcome.bytesOut > 0) series.sent.inc(outcome.bytesOut);
    if (outcome.upstreamMs !== null && outcome.instance !== null && Number.isFinite(outcome.upstreamMs)) {
      this.upstreamSeries(model, outcome.instance).observe(outcome.upstreamMs / 1000);
    }
    if (outcome.refusedBy !== null) this.refusalSeries(outcome.refusedBy, tenant).inc();
  }

  private callSeries(model: string, rpc: string, protocol: string, code: string, tenant: string | null): CallSeries {
    const key = `${model}\n${rpc}\n${protocol}\n${code}\n${tenant ?? ''}`;
    let series = this.calls.get(key);
    if (series === undefined) {
      series = {
        requests: tenant === null ? this.requests.labels(model, rpc, protocol, code) : this.requests.labels(model, rpc, protocol, code, tenant),
        duration: this.duration.labels(model, protocol),
        received: this.received.labels(model),
        sent: this.sent.labels(model),
      };
      this.calls.set(key, series);
    }
    return series;
  }

  private upstreamSeries(model: string, instance: string): Histogram.Internal<string> {
    const key = `${model}\n${instance}`;
    let series = this.upstreams.get(key);
    if (series === undefined) {
      series = this.upstream.labels(model, instance);
      this.upstreams.set(key, series);
    }
    return series;
  }

  private refusalSeries(limit: string, tenant: string | null): Counter.Internal {
    const key = `${limit}\n${tenant ?? ''}`;
    let series = this.refusals.get(key);
    if (series === undefined) {
      series = tenant === null ? this.rejections.labels(limit) : this.rejections.labels(limit, tenant);
      this.refusals.set(key, series);
    }
    return series;
  }
}
